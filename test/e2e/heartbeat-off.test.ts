import { describe, expect, it } from 'vitest';
import { startVigil } from './cli.ts';

describe('PUBLISH_INTERVAL_SECONDS=0 (real process)', () => {
  it('runs without the heartbeat publisher', async () => {
    const vigil = startVigil(['run'], { PORT: '0', DATABASE_URL: 'sqlite::memory:', PUBLISH_INTERVAL_SECONDS: '0' });
    try {
      const url = String((await vigil.waitForLog((line) => line.msg === 'vigil listening')).url);
      const body = (await (await fetch(`${url}/actors`)).json()) as { actors: { id: string }[] };
      const ids = body.actors.map((actor) => actor.id);
      expect(ids).toContain('subscriber');
      expect(ids).not.toContain('publisher');
    } finally {
      vigil.child.kill('SIGTERM');
    }
    expect(await vigil.exit()).toBe(0);
    expect(vigil.output()).not.toContain('system alert published');
  });
});
