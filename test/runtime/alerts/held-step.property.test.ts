import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createActor, fromCallback, SimulatedClock } from 'xstate';
import type { Rule } from '../../../src/domain/rule.ts';
import { createHeldStep } from '../../../src/runtime/alerts/held-step.ts';
import { createRuleActors } from '../../../src/runtime/alerts/rule-actors.ts';
import { createLogger } from '../../../src/runtime/logger.ts';
import { ActorRegistry } from '../../../src/runtime/registry.ts';
import { recordingMachine, rule } from '../../actors/alert.fixtures.ts';

const T0 = 1_000_000;

type Step = { kind: 'reading'; value: number } | { kind: 'evaluate' } | { kind: 'advance'; ms: number } | { kind: 'edit'; threshold: number; for_seconds: number };

const recording = recordingMachine;

const steps = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('reading' as const), value: fc.constantFrom(50, 75, 85, 95) }) },
    fc.record({ kind: fc.constant('evaluate' as const) }),
    fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 8_000 }) }),
    fc.record({ kind: fc.constant('edit' as const), threshold: fc.constantFrom(80, 90), for_seconds: fc.constantFrom(0, 3) }),
  ),
  { maxLength: 40 },
);

/**
 * The same script to a bare actor sent every event, and to a rule entry that takes the transitions
 * needing no actor without one: after each step, the state, context, intents and snapshot changes told.
 */
function twins(r: Rule, script: Step[], timers: boolean) {
  const clock = new SimulatedClock();
  clock.set(T0);
  const bare: unknown[] = [];
  const routed: unknown[] = [];
  const direct = createActor(recording(bare), { input: { rule: r, now: T0, timers }, clock }).start();
  const directChanges: unknown[] = [];
  let last: unknown = direct.getSnapshot();
  // XState tells its observers after every event, moved or not: a change is a new snapshot.
  direct.subscribe((snapshot) => {
    if (snapshot !== last) directChanges.push(snapshot.value);
    last = snapshot;
  });
  const registry = new ActorRegistry();
  const actors = createRuleActors({ registry, logger: createLogger('silent'), machine: recording(routed), now: () => clock.now(), clock, timers });
  const routedChanges: unknown[] = [];
  registry.changes().subscribe((change) => routedChanges.push(change.snapshot.value));
  const entry = actors.start(r);
  let latest: { value: number; ts: number } | null = null;
  let current = r;
  // Less the clock: a rule not moved yet takes an edit as its new rule alone (see `update`), and the next evaluation's `now` catches up.
  const trace = (s: { value: unknown; context: { now?: number } }, intents: unknown[]) => JSON.stringify([s.value, { ...s.context, now: undefined }, intents]);
  const seen = { direct: [] as string[], routed: [] as string[], held: 0 };
  for (const step of script) {
    const t = clock.now();
    if (step.kind === 'advance') clock.set(t + step.ms);
    else if (step.kind === 'edit') {
      current = { ...current, threshold: step.threshold, for_seconds: step.for_seconds, updated_at: String(t) };
      direct.send({ type: 'RULE_UPDATED', rule: current, now: t });
      actors.update(current);
    } else {
      if (step.kind === 'reading') latest = { value: step.value, ts: t };
      const event = { type: 'EVALUATE', at: t, now: t, value: latest?.value ?? null, ts: latest?.ts ?? null } as const;
      direct.send(event);
      expect(actors.deliver(entry, event)).toBeNull();
    }
    seen.direct.push(trace(direct.getSnapshot(), bare));
    seen.routed.push(trace(actors.get(r.id)!.snapshot(), routed));
    if (!entry.created && entry.held) seen.held++;
  }
  actors.stopAll();
  direct.stop();
  // The states told, from the initial `ok`, each once in a row: a rule not moved yet takes an edit silently (its
  // snapshot is built when needed), and an actor created on first need tells the snapshot it starts from.
  const states = (values: unknown[]) => ['ok', ...values].map((v) => JSON.stringify(v)).filter((v, i, all) => i === 0 || v !== all[i - 1]);
  return { ...seen, directChanges: states(directChanges), routedChanges: states(routedChanges) };
}

describe('transitions without an actor (held step)', () => {
  it("are XState's own: states, contexts, intents and the changes told equal a bare actor's, on either clock mode, across edits", () => {
    fc.assert(
      fc.property(
        fc.record({
          for_seconds: fc.constantFrom(0, 3),
          keep_firing_for_seconds: fc.constantFrom(0, 4),
          clear_threshold: fc.constantFrom(null, 70),
        }),
        fc.boolean(),
        steps,
        (overrides, timers, script) => {
          const result = twins(rule({ ...overrides, threshold: 80 }), script, timers);
          expect(result.routed).toEqual(result.direct);
          expect(result.routedChanges).toEqual(result.directChanges);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('take a timerless rule through fire and resolve with no actor at all', () => {
    const { held, routed } = twins(rule({ threshold: 80 }), [{ kind: 'reading', value: 95 }, { kind: 'reading', value: 50 }, { kind: 'reading', value: 95 }], true);
    expect(held).toBe(3);
    expect(JSON.parse(routed.at(-1)!)[2]).toEqual([['fire', 95, T0], ['resolve', 50, T0], ['fire', 95, T0]]);
  });

  it('leave to an actor a transition that arms a timer, and run none of its effects', () => {
    const effects: unknown[] = [];
    const machine = recording(effects);
    const host = createActor(fromCallback(() => undefined)).start();
    const step = createHeldStep(machine, host);
    const context = { ...createActor(machine, { input: { rule: rule({ threshold: 80, for_seconds: 3 }), now: T0 } }).getSnapshot().context };
    const from = machine.resolveState({ value: 'ok', context });
    // ok → pending arms the `for` deadline: a delayed event only an actor's clock can deliver.
    expect(step(from, { type: 'EVALUATE', at: T0, now: T0, value: 95, ts: T0 })).toBeUndefined();
    expect(effects).toEqual([]);
    host.stop();
  });

  it('leave to an actor a transition whose guard throws, running nothing', () => {
    const machine = recording([]);
    const host = createActor(fromCallback(() => undefined)).start();
    const step = createHeldStep(machine, host);
    const context = { ...createActor(machine, { input: { rule: rule({ threshold: 80 }), now: T0 } }).getSnapshot().context };
    const broken = { ...context, rule: { ...context.rule, get operator(): never { throw new Error('broken rule'); } } };
    expect(step(machine.resolveState({ value: 'ok', context: broken }), { type: 'EVALUATE', at: T0, now: T0, value: 95, ts: T0 })).toBeUndefined();
    host.stop();
  });
});
