import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock, type AnyStateNode, type InspectionEvent } from 'xstate';
import { alertMachine } from '../../../src/actors/alert.ts';
import type { Rule } from '../../../src/domain/rule.ts';
import { createLogger } from '../../../src/runtime/logger.ts';
import { ActorRegistry } from '../../../src/runtime/registry.ts';
import { createRuleActors } from '../../../src/runtime/alerts/rule-actors.ts';
import { recordingMachine, rule } from '../../actors/alert.fixtures.ts';

type Step = { kind: 'reading'; value: number } | { kind: 'evaluate' } | { kind: 'advance'; ms: number };

const T0 = 1_000_000;

/** Every state node of a machine, nested ones included. */
function stateNodes(node: AnyStateNode): AnyStateNode[] {
  return [node, ...Object.values(node.states).flatMap(stateNodes)];
}

const recording = recordingMachine;

/**
 * The same script twice: straight to a bare actor (every event sent), and through `deliver` of the
 * rule actors (which skips what the actor would ignore). After each step: the state, the context,
 * and every intent and reported transition so far.
 */
function twins(r: Rule, steps: Step[]) {
  const clock = new SimulatedClock();
  clock.set(T0);
  const bare: unknown[] = [];
  const routed: unknown[] = [];
  const direct = createActor(recording(bare), { input: { rule: r, now: T0 }, clock }).start();
  const actors = createRuleActors({ registry: new ActorRegistry(), logger: createLogger('silent'), machine: recording(routed), now: () => clock.now(), clock });
  const entry = actors.start(r);
  let latest: { value: number; ts: number } | null = null;
  const trace = (snapshot: { value: unknown; context: unknown }, intents: unknown[]) => JSON.stringify([snapshot.value, snapshot.context, intents]);
  const seen: { direct: string[]; routed: string[] } = { direct: [], routed: [] };
  const created: boolean[] = [];
  for (const step of steps) {
    const t = clock.now();
    if (step.kind === 'advance') clock.set(t + step.ms);
    else {
      if (step.kind === 'reading') latest = { value: step.value, ts: t };
      const event = { type: 'EVALUATE', at: t, now: t, value: latest?.value ?? null, ts: latest?.ts ?? null } as const;
      direct.send(event);
      expect(actors.deliver(entry, event)).toBeNull();
    }
    seen.direct.push(trace(direct.getSnapshot(), bare));
    // Read through the registry's view, which does not create an actor still waiting for its first use.
    seen.routed.push(trace(actors.get(r.id)!.snapshot(), routed));
    created.push(entry.created);
  }
  actors.stopAll();
  direct.stop();
  return { ...seen, created };
}

describe('rule actors skip only the evaluations their actor ignores', () => {
  it('the alert machine has no eventless transitions (they would run after an evaluation that enables none)', () => {
    for (const node of stateNodes(alertMachine.root)) expect(node.always ?? [], node.id).toEqual([]);
  });

  it('only `ok` can ignore an evaluation: every other state ends its EVALUATE transitions with an unguarded one', () => {
    const atomic = stateNodes(alertMachine.root).filter((node) => node.type === 'atomic' && node.key !== 'ok');
    expect(atomic.map((node) => node.id).sort()).toEqual(['alert.firing.active', 'alert.firing.clearing', 'alert.nodata', 'alert.pending']);
    for (const node of atomic) expect(node.transitions.get('EVALUATE')?.at(-1)?.guard, node.id).toBeUndefined();
  });

  it('selects the transitions of a firing or resolving evaluation once: XState is not asked beforehand whether it moves', () => {
    const machine = recording([]);
    const actors = createRuleActors({ registry: new ActorRegistry(), logger: createLogger('silent'), machine, now: () => T0 });
    let selected = 0;
    const select = machine.getTransitionData.bind(machine);
    machine.getTransitionData = (snapshot, event) => {
      selected++;
      return select(snapshot, event);
    };
    // A rule with nothing to time fires and resolves by the direct step (direct-step.ts): XState selects nothing.
    // One kept firing takes its transitions from XState, which selects them once; its move to `clearing`
    // arms a timer, so it is tried without an actor first and then sent to one (held-step.ts).
    const cases = [
      { rule: rule({ id: 'plain', threshold: 80 }), selections: [0, 0], last: 'ok' },
      { rule: rule({ id: 'kept', threshold: 80, keep_firing_for_seconds: 4 }), selections: [1, 2], last: { firing: 'clearing' } },
    ];
    for (const { rule: r, selections, last } of cases) {
      const entry = actors.start(r);
      for (const [i, value] of [95, 50].entries()) {
        selected = 0;
        actors.deliver(entry, { type: 'EVALUATE', at: T0 + i, now: T0 + i, value, ts: T0 + i });
        expect(selected, `${r.id}, value ${value}`).toBe(selections[i]);
      }
      expect(entry.actor.getSnapshot().value).toEqual(last);
    }
    actors.stopAll();
  });

  it('judges a rule whose actor is not created yet from its entry, without building its initial snapshot, as from that snapshot', () => {
    fc.assert(
      fc.property(
        fc.option(fc.record({ value: fc.constantFrom(50, 85, 95), ago: fc.constantFrom(0, 1_000, 60_000) }), { nil: undefined }),
        fc.record({ value: fc.option(fc.constantFrom(50, 79.9, 80, 80.1, 95), { nil: null }), after: fc.constantFrom(-2_000, 0, 1_000) }),
        (last, next) => {
          const restored = last ? { state: 'ok' as const, context: { value: last.value, lastReadingAt: T0 - last.ago, evaluatedAt: T0 - last.ago } } : undefined;
          const actors = createRuleActors({ registry: new ActorRegistry(), logger: createLogger('silent'), machine: alertMachine, now: () => T0 });
          const entry = actors.start(rule({ threshold: 80 }), restored);
          expect(entry.created).toBe(false);
          const { context } = entry.peek();
          expect([entry.value, entry.lastReadingAt]).toEqual([context.value, context.lastReadingAt]);
          const at = T0 + next.after;
          const event = { type: 'EVALUATE', at, now: T0, value: next.value, ts: next.value === null ? null : at } as const;
          const moves = alertMachine.getTransitionData(alertMachine.resolveState({ value: 'ok', context }), event).length > 0;
          let peeked = 0;
          const peek = entry.peek.bind(entry);
          entry.peek = () => (peeked++, peek());
          actors.deliver(entry, event);
          expect(peeked).toBe(0);
          // A move that arms no timer needs no actor: the entry holds the snapshot it led to.
          expect(entry.created).toBe(false);
          expect(entry.held !== undefined).toBe(moves);
          actors.stopAll();
        },
      ),
      { numRuns: 200 },
    );
  });

  it('with an inspector attached, every evaluation reaches the actor, the ignored ones too', () => {
    const seen: string[] = [];
    const inspect = (event: InspectionEvent) => {
      if (event.type === '@xstate.event' && event.event.type === 'EVALUATE' && (event.actorRef as { id?: string }).id === 'rule:r1') seen.push(`${event.event.type} ${(event.event as { value?: number }).value}`);
    };
    const inspected = createRuleActors({ registry: new ActorRegistry(), logger: createLogger('silent'), machine: alertMachine, now: () => T0, inspect });
    const plain = createRuleActors({ registry: new ActorRegistry(), logger: createLogger('silent'), machine: alertMachine, now: () => T0 });
    const watched = inspected.start(rule({ threshold: 80 }));
    const unwatched = plain.start(rule({ threshold: 80 }));
    for (const [i, value] of [10, 20, 95].entries()) {
      const event = { type: 'EVALUATE', at: T0 + i, now: T0 + i, value, ts: T0 + i } as const;
      inspected.deliver(watched, event);
      const before = unwatched.actor.getSnapshot();
      plain.deliver(unwatched, event);
      // Without an inspector an ignored evaluation is not sent: the snapshot stays the same object.
      if (value < 80) expect(unwatched.actor.getSnapshot()).toBe(before);
    }
    expect(seen).toEqual(['EVALUATE 10', 'EVALUATE 20', 'EVALUATE 95']);
    expect(watched.actor.getSnapshot().value).toEqual(unwatched.actor.getSnapshot().value);
    inspected.stopAll();
    plain.stopAll();
  });

  it('a rule fed through deliver goes through the states, contexts and intents of an actor sent every event', () => {
    fc.assert(
      fc.property(
        fc.record({
          for_seconds: fc.constantFrom(0, 3),
          keep_firing_for_seconds: fc.constantFrom(0, 4),
          nodata_seconds: fc.constantFrom(null, 5),
          clear_threshold: fc.constantFrom(null, 70),
        }),
        fc.array(
          fc.oneof(
            fc.record({ kind: fc.constant('reading' as const), value: fc.constantFrom(50, 75, 85, 95) }),
            fc.record({ kind: fc.constant('evaluate' as const) }),
            fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 8_000 }) }),
          ),
          { maxLength: 40 },
        ),
        (overrides, steps) => {
          const { direct, routed, created } = twins(rule({ ...overrides, threshold: 80 }), steps);
          expect(routed).toEqual(direct);
          // A rule with nothing to time waits for its first transition to get an actor.
          if (overrides.nodata_seconds === null) {
            const firstMove = direct.findIndex((step) => JSON.parse(step)[0] !== 'ok');
            const until = firstMove === -1 ? created.length : firstMove;
            expect(created.slice(0, until).every((c) => !c)).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
