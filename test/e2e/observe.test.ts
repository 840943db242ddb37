import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMachine } from 'xstate';
import { afterAll, describe, expect, it } from 'vitest';
import { startVigil } from './cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-observe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('vigil run observed from outside (real process)', () => {
  it('SSE carries changes, not the notifier polls; /metrics has the defaults; /actors/:id/machine feeds createMachine()', { timeout: 90_000 }, async () => {
    const vigil = startVigil(['run'], {
      PORT: '0',
      DATABASE_URL: `sqlite:${join(dir, 'vigil.db')}`,
      PUBLISH_INTERVAL_SECONDS: '1',
      NOTIFY_POLL_INTERVAL_MS: '200',
    });
    try {
      const url = String((await vigil.waitForLog((line) => line.msg === 'vigil listening', 60_000)).url);
      const events = await fetch(`${url}/events`);
      const reader = events.body!.getReader();
      let text = '';
      const started = Date.now();
      // Three publisher changes: about 3 s, some 15 notifier polls.
      while ((text.match(/event: publisher\n/g) ?? []).length < 3) text += new TextDecoder().decode((await reader.read()).value);
      const seconds = (Date.now() - started) / 1_000;
      await reader.cancel();
      const notifier = (text.match(/event: notifier\n/g) ?? []).length;
      const polls = Math.floor((seconds * 1_000) / 200);
      expect(polls).toBeGreaterThanOrEqual(8);
      // Each idle poll goes waiting → claiming → waiting within one turn: nothing to send.
      expect(notifier).toBeLessThanOrEqual(Math.floor(polls / 4));

      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/^process_cpu_user_seconds_total \d/m);
      expect(metrics).toMatch(/^nodejs_heap_size_used_bytes \d/m);
      expect(metrics).toMatch(/^vigil_actors\{kind="publisher",state="running\.\w+",status="active"\} 1$/m);

      for (const id of ['notifier', 'publisher', 'subscriber']) {
        const config = (await (await fetch(`${url}/actors/${id}/machine`)).json()) as Parameters<typeof createMachine>[0];
        expect(Object.keys(createMachine(config).root.states).length).toBeGreaterThan(1);
      }
    } finally {
      expect(await vigil.stop()).toBe(0);
    }
  });
});
