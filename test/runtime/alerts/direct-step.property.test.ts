import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createActor, fromCallback } from 'xstate';
import { createDirectStep } from '../../../src/runtime/alerts/direct-step.ts';
import { createHeldStep, type AlertMachineSnapshot } from '../../../src/runtime/alerts/held-step.ts';
import type { Rule } from '../../../src/domain/rule.ts';
import { recordingMachine, rule } from '../../actors/alert.fixtures.ts';

const T0 = 1_000_000;

const recording = recordingMachine;

/** What a snapshot is, methods aside: everything XState's own transition sets. */
const shapeOf = (s: AlertMachineSnapshot) => ({
  status: s.status,
  value: s.value,
  context: s.context,
  children: s.children,
  historyValue: s.historyValue,
  tags: [...s.tags],
  nodes: s._nodes.map((node) => node.id),
  json: JSON.stringify(s),
  matches: [s.matches('ok'), s.matches('firing'), s.matches({ firing: 'active' }), s.matches('pending')],
  can: s.can({ type: 'EVALUATE', at: T0, now: T0, value: 95, ts: T0 }),
});

describe('direct transitions (fire, resolve, a reading while firing)', () => {
  it("equal XState's transition: the snapshot, its context and the effects run, from any state a rule reaches", () => {
    fc.assert(
      fc.property(
        fc.record({ clear_threshold: fc.constantFrom(null, 70, 90), operator: fc.constantFrom('>', '>=', '<', '<=') as fc.Arbitrary<Rule['operator']> }),
        fc.array(fc.record({ value: fc.constantFrom(null, 50, 75, 80, 85, 95), dt: fc.integer({ min: -2_000, max: 5_000 }), stale: fc.boolean() }), { minLength: 1, maxLength: 25 }),
        (overrides, readings) => {
          const viaXState: unknown[] = [];
          const viaDirect: unknown[] = [];
          const host = createActor(fromCallback(() => undefined)).start();
          const xstate = recording(viaXState);
          const directMachine = recording(viaDirect);
          const direct = createDirectStep(directMachine, host);
          let from = xstate.resolveState({ value: 'ok', context: createActor(xstate, { input: { rule: rule({ ...overrides, threshold: 80 }), now: T0 } }).getSnapshot().context });
          let t = T0;
          let taken = 0;
          for (const { value, dt, stale } of readings) {
            t += dt;
            const event = { type: 'EVALUATE', at: t, now: t, value, ts: stale ? t - 10_000 : t } as const;
            const expected = xstate.transition(from, event, { self: host, system: host.system, actionExecutor: (a: { exec?: (i: unknown, p: unknown) => void; info: unknown; params: unknown }) => a.exec?.(a.info, a.params) } as never);
            const got = direct(from, event);
            if (got) {
              taken++;
              got.effect?.();
              expect(got.next === from).toBe(expected === from);
              expect(shapeOf(got.next)).toEqual(shapeOf(expected));
              expect(got.next.machine).toBe(expected.machine);
            }
            // The same effects, in the same order, with the same intents.
            if (got) expect(viaDirect).toEqual(viaXState);
            viaDirect.length = 0;
            viaXState.length = 0;
            from = expected;
          }
          host.stop();
          return taken > 0;
        },
      ),
      { numRuns: 300 },
    );
  });

  it('takes fire and resolve of a rule with nothing to time without XState, and leaves a kept or timed rule to it', () => {
    const effects: unknown[] = [];
    const machine = recording(effects);
    const host = createActor(fromCallback(() => undefined)).start();
    const step = createHeldStep(machine, host);
    const direct = createDirectStep(machine, host);
    const start = (overrides: Parameters<typeof rule>[0]) =>
      machine.resolveState({ value: 'ok', context: createActor(machine, { input: { rule: rule({ threshold: 80, ...overrides }), now: T0 } }).getSnapshot().context });
    const breach = { type: 'EVALUATE', at: T0, now: T0, value: 95, ts: T0 } as const;
    const calm = { type: 'EVALUATE', at: T0 + 1, now: T0 + 1, value: 50, ts: T0 + 1 } as const;
    const fired = step(start({}), breach)!;
    expect(direct(start({}), breach)).toBeDefined();
    expect(fired.value).toEqual({ firing: 'active' });
    expect(step(fired, calm)!.value).toBe('ok');
    // The direct step alone runs no effect: the held step runs it once the transition is known.
    expect(effects).toEqual([['fire', 95, T0], ['resolve', 50, T0 + 1]]);
    expect(direct(start({ for_seconds: 3 }), breach)).toBeUndefined();
    expect(direct(start({ nodata_seconds: 30 }), breach)).toBeUndefined();
    const kept = step(start({ keep_firing_for_seconds: 4 }), breach)!;
    expect(direct(kept, calm)).toBeUndefined();
    host.stop();
  });
});
