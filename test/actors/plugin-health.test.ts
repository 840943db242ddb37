import { describe, expect, it } from 'vitest';
import type { PluginHealth } from '../../src/domain/plugin.ts';
import { pluginActor } from './plugin-health.fixtures.ts';

describe('pluginHealthMachine', () => {
  it('goes healthy → degraded (1–2 failures) → unhealthy (3+), and notifies once on becoming unhealthy', () => {
    const p = pluginActor();
    expect(p.actor.getSnapshot().value).toBe('healthy');
    p.run(true);
    p.run(false);
    expect(p.actor.getSnapshot().value).toBe('degraded');
    p.run(false);
    expect(p.actor.getSnapshot().value).toBe('degraded');
    p.run(false, 'timeout');
    expect(p.actor.getSnapshot().value).toBe('unhealthy');
    p.run(false);
    expect(p.notices).toEqual(['failing 3']);
    expect(p.actor.getSnapshot().context).toMatchObject({
      status: 'unhealthy',
      consecutive_failures: 4,
      total_runs: 5,
      total_failures: 4,
      success_rate: 0.2,
      last_error: 'boom',
      last_success_at: '2026-01-01T00:00:00.000Z',
      last_run_at: '2026-01-01T00:00:04.000Z',
    });
  });

  it('warns for manual intervention at 5 consecutive failures, once', () => {
    const p = pluginActor();
    for (let i = 0; i < 7; i++) p.run(false);
    expect(p.notices).toEqual(['failing 3', 'failing 5']);
  });

  it('recovering from unhealthy notifies; recovering from degraded does not', () => {
    const p = pluginActor();
    p.run(false);
    p.run(true);
    expect(p.notices).toEqual([]);
    for (let i = 0; i < 3; i++) p.run(false);
    p.run(true);
    expect(p.actor.getSnapshot().value).toBe('healthy');
    expect(p.notices).toEqual(['failing 3', 'recovered 6']);
  });

  it('persists every run with the figures after it', () => {
    const p = pluginActor();
    p.run(true);
    p.run(false);
    expect(p.persisted.map((h) => [h.status, h.total_runs, h.consecutive_failures])).toEqual([
      ['healthy', 1, 0],
      ['degraded', 2, 1],
    ]);
    expect(p.persisted[0]).not.toHaveProperty('thresholds');
  });

  it('restores from its stored row without notifying again', () => {
    const stored: PluginHealth = {
      name: 'collector',
      status: 'unhealthy',
      last_run_at: null,
      last_success_at: null,
      last_error: 'x',
      consecutive_failures: 4,
      total_runs: 10,
      total_failures: 6,
      success_rate: 0.4,
    };
    const p = pluginActor(stored);
    expect(p.actor.getSnapshot().value).toBe('unhealthy');
    expect(p.notices).toEqual([]);
    p.run(false);
    expect(p.notices).toEqual(['failing 5']);
    p.run(true);
    expect(p.notices).toEqual(['failing 5', 'recovered 12']);
  });
});
