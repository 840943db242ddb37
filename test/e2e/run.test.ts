import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, startVigil } from './cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('vigil run (real process)', () => {
  it('publishes, buffers, streams over SSE, and exits 0 on SIGTERM', async () => {
    const vigil = startVigil(['run'], {
      PORT: '0',
      DATABASE_URL: `sqlite:${join(dir, 'vigil.db')}`,
      PUBLISH_INTERVAL_SECONDS: '1',
      BATCH_WAIT_MS: '100',
    });
    const listening = await vigil.waitForLog((line) => line.msg === 'vigil listening');
    const url = String(listening.url);
    await eventually(async () => (vigil.output().includes(`vigil: running on ${url} (dashboard ${url}/)`) ? true : undefined), 10_000);

    const actors = (await (await fetch(`${url}/actors`)).json()) as { actors: { id: string }[] };
    expect(actors.actors.map((a) => a.id)).toEqual(expect.arrayContaining(['publisher', 'subscriber']));

    const events = await fetch(`${url}/events?actor=subscriber`);
    const reader = events.body!.getReader();

    const messages = await eventually(async () => {
      const body = (await (await fetch(`${url}/messages`)).json()) as { messages: { value: { alert_type: string } }[] };
      return body.messages.length > 0 ? body.messages : undefined;
    });
    expect(messages[0]!.value.alert_type).toBe('periodic_check');

    let text = '';
    while (!text.includes('event: subscriber\ndata:')) text += new TextDecoder().decode((await reader.read()).value);
    expect(text).toMatch(/id: \d+\nevent: subscriber\ndata: \{"id":"subscriber"/);

    const startedStopping = Date.now();
    expect(await vigil.stop()).toBe(0);
    expect(Date.now() - startedStopping).toBeLessThan(5_000);
    expect(vigil.output()).toContain('"msg":"stopped"');
  });

  it('exits 2 naming the variable on bad configuration', async () => {
    const vigil = startVigil(['run'], { PUBLISH_INTERVAL_SECONDS: '-1', DATABASE_URL: `sqlite:${join(dir, 'bad.db')}` });
    expect(await vigil.exit()).toBe(2);
    expect(vigil.output()).toMatch(/PUBLISH_INTERVAL_SECONDS: .*"-1"/);
  });

  it('exits 2 on an unknown command, saying where the commands are listed', async () => {
    const vigil = startVigil(['fly'], {});
    expect(await vigil.exit()).toBe(2);
    expect(vigil.output()).toContain("unknown command 'fly'; 'vigil --help' lists the commands");
  });

  it('vigil migrate applies the migrations once', async () => {
    const env = { DATABASE_URL: `sqlite:${join(dir, 'migrate.db')}` };
    const first = startVigil(['migrate'], env);
    expect(await first.exit()).toBe(0);
    expect(first.output()).toContain('migrations applied');
    const second = startVigil(['migrate'], env);
    expect(await second.exit()).toBe(0);
    expect(second.output()).toContain('database up to date');
  });
});

describe('vigil run on a port in use (real process)', () => {
  it('exits 2 naming PORT, after stopping what had started', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as import('node:net').AddressInfo;
    try {
      const vigil = startVigil(['run'], { PORT: String(port), DATABASE_URL: `sqlite:${join(dir, 'busy.db')}` });
      expect(await vigil.exit()).toBe(2);
      expect(vigil.output()).toMatch(new RegExp(`PORT: 127\\.0\\.0\\.1:${port} cannot be used \\(EADDRINUSE\\)`));
      expect(vigil.output()).toContain('"msg":"stopped"');
    } finally {
      blocker.close();
    }
  });
});
