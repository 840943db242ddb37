import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PLUGIN_THRESHOLDS } from '../../src/domain/plugin.ts';
import { pluginActor } from './plugin-health.fixtures.ts';

describe('pluginHealthMachine (properties)', () => {
  it('success_rate, consecutive_failures and status always match the run history', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 60 }), (history) => {
        const p = pluginActor();
        history.forEach((ok, i) => {
          p.run(ok);
          const seen = history.slice(0, i + 1);
          const successes = seen.filter(Boolean).length;
          const lastSuccess = seen.lastIndexOf(true);
          const consecutive = seen.length - 1 - lastSuccess;
          const { context, value } = p.actor.getSnapshot();
          expect(context.total_runs).toBe(seen.length);
          expect(context.total_failures).toBe(seen.length - successes);
          expect(context.success_rate).toBeCloseTo(successes / seen.length, 12);
          expect(context.consecutive_failures).toBe(consecutive);
          const status = consecutive >= PLUGIN_THRESHOLDS.unhealthyAt ? 'unhealthy' : consecutive >= PLUGIN_THRESHOLDS.degradedAt ? 'degraded' : 'healthy';
          expect(context.status).toBe(status);
          expect(value).toBe(status);
        });
        // Notices: one per entry into unhealthy, one per reaching the intervention threshold, one per recovery.
        let run = 0;
        const expected: string[] = [];
        history.forEach((ok, i) => {
          const before = run;
          run = ok ? 0 : run + 1;
          if (!ok && run === PLUGIN_THRESHOLDS.unhealthyAt) expected.push(`failing ${run}`);
          if (!ok && run === PLUGIN_THRESHOLDS.interventionAt) expected.push(`failing ${run}`);
          if (ok && before >= PLUGIN_THRESHOLDS.unhealthyAt) expected.push(`recovered ${i + 1}`);
        });
        expect(p.notices).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });
});
