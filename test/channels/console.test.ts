import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Outgoing } from '../../src/channels/channel.ts';
import { createConsoleChannel } from '../../src/channels/console.ts';
import { fdLineWriter } from '../../src/channels/line-writer.ts';
import { DeliveryError } from '../../src/errors.ts';
import { createLogger } from '../../src/runtime/logger.ts';
import { createDeliverer } from '../../src/runtime/notification-delivery.ts';
import { createRunReporter } from '../../src/runtime/run-reporter.ts';
import { createSqliteStore } from '../../src/storage/sqlite/index.ts';

const note: Outgoing = {
  id: 'n1',
  severity: 'critical',
  title: 'CPU high',
  message: 'cpu at 97.5 (> 90)',
  metadata: { device_id: 'edge-1' },
  alert_id: 'rule-1',
  created_at: '2026-01-01T00:00:00.000Z',
};

const dir = mkdtempSync(join(tmpdir(), 'vigil-console-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fds: number[] = [];
afterEach(() => {
  for (const fd of fds.splice(0)) closeSync(fd);
});
const open = (name: string, flags: string) => {
  const path = join(dir, name);
  if (flags === 'r') writeFileSync(path, '');
  const fd = openSync(path, flags);
  fds.push(fd);
  return { path, fd };
};

describe('console channel', () => {
  it('has written the line, with the logger fields and the notification id, before send returns', async () => {
    const out = open('out.log', 'a');
    const channel = createConsoleChannel(createLogger('info').child({ actor: 'notifier' }), fdLineWriter(out.fd));
    const sending = channel.send(note);
    // Written in the synchronous part of send: no tick of the event loop has passed yet.
    const [line] = readFileSync(out.path, 'utf8').split('\n');
    expect(JSON.parse(line!)).toMatchObject({ level: 60, actor: 'notifier', channel: 'console', notification: 'n1', title: 'CPU high', msg: 'notification' });
    await sending;
  });

  it('rejects when the line cannot be written (a descriptor open for reading only)', async () => {
    const channel = createConsoleChannel(createLogger('info'), fdLineWriter(open('read-only.log', 'r').fd));
    const error = await channel.send(note).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error).toMatchObject({ code: 'EBADF', retriable: false });
  });

  it('a notification whose console line was not written is not marked sent', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    await store.migrate();
    try {
      const console = createConsoleChannel(createLogger('info'), fdLineWriter(open('broken.log', 'r').fd));
      const deliver = createDeliverer({
        notifications: store.notifications,
        channels: new Map([['console', console]]),
        policy: { maxAttempts: 3, repeatIntervalMs: 0 },
        logger: createLogger('silent'),
        runs: createRunReporter(),
      });
      const now = new Date().toISOString();
      await store.notifications.enqueue([{ channel: 'console', severity: 'error', title: 't', message: 'm', next_attempt_at: now }]);
      const [row] = await store.notifications.claim(now, 1, 60_000);
      expect(await deliver([row!])).toMatchObject([{ kind: 'failed' }]);
      expect(await store.notifications.list({})).toMatchObject([{ status: 'failed', sent_at: null, attempts: 1 }]);
    } finally {
      await store.close();
    }
  });
});
