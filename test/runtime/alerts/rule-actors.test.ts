import { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { waitFor } from 'xstate';
import { alertMachine, type AlertIntent } from '../../../src/actors/alert.ts';
import { createLogger } from '../../../src/runtime/logger.ts';
import { createWriteSink, provideRuleEffects } from '../../../src/runtime/alerts/rule-effects.ts';
import { ActorRegistry, viewOf } from '../../../src/runtime/registry.ts';
import { createRuleActors } from '../../../src/runtime/alerts/rule-actors.ts';
import { rule } from '../../actors/alert.fixtures.ts';

/** Rule actors wired as the engine wires them, with no clock given: XState's default (real) timers. */
function wired() {
  const fired: AlertIntent[] = [];
  const machine = alertMachine.provide({ actions: { fireAlert: (_, intent) => void fired.push(intent) } });
  const registry = new ActorRegistry();
  const actors = createRuleActors({ registry, logger: createLogger('silent'), machine, now: Date.now });
  return { actors, registry, fired };
}

describe('rule actors (default wiring, real timers)', () => {
  it("keeps the alert machine's guards in the runtime's machine: readings judged quiet without XState (quietInOk) read those", () => {
    const machine = provideRuleEffects(new Registry(), createWriteSink(() => ({ push: () => {} })));
    expect(machine.implementations.guards).toEqual(alertMachine.implementations.guards);
  });

  it('runs a for_seconds deadline on the default clock when none is given: fires, never errors', async () => {
    const { actors, fired } = wired();
    const entry = actors.start(rule({ for_seconds: 0.2 }));
    const at = Date.now();
    expect(actors.deliver(entry, { type: 'EVALUATE', at, now: at, value: 90, ts: at })).toBeNull();
    expect(entry.actor.getSnapshot().value).toBe('pending');
    const snapshot = await waitFor(entry.actor, (s) => s.status !== 'active' || s.value !== 'pending', { timeout: 5_000 });
    expect(snapshot.status).toBe('active');
    expect(snapshot.value).toEqual({ firing: 'active' });
    expect(fired).toEqual([expect.objectContaining({ value: 90, at: at + 200 })]);
    actors.stopAll();
  });

  it('runs nodata and keep_firing_for deadlines, and a stopped rule ends with its timer cancelled', async () => {
    const { actors, registry } = wired();
    const silent = actors.start(rule({ id: 'silent', nodata_seconds: 0.2 }));
    await waitFor(silent.actor, (s) => s.value === 'nodata', { timeout: 5_000 });
    const keep = actors.start(rule({ id: 'keep', keep_firing_for_seconds: 0.2 }));
    const at = Date.now();
    actors.deliver(keep, { type: 'EVALUATE', at, now: at, value: 90, ts: at });
    actors.deliver(keep, { type: 'EVALUATE', at: at + 1, now: at + 1, value: 10, ts: at + 1 });
    expect(keep.actor.getSnapshot().value).toEqual({ firing: 'clearing' });
    await waitFor(keep.actor, (s) => s.value === 'ok', { timeout: 5_000 });
    const pending = actors.start(rule({ id: 'pending', for_seconds: 60 }));
    actors.deliver(pending, { type: 'EVALUATE', at, now: at, value: 90, ts: at });
    const last = actors.stop('pending');
    expect(last?.state).toBe('pending');
    expect(pending.actor.getSnapshot().status).toBe('done');
    expect(registry.get('rule:pending')).toBeUndefined();
    actors.stopAll();
  });

  it('creates the actor of a rule with nothing to time when first needed, and it then behaves as one created at start', () => {
    const { actors, registry, fired } = wired();
    const idle = actors.start(rule({ id: 'idle', threshold: 80 }));
    const eager = actors.start(rule({ id: 'eager', threshold: 80, nodata_seconds: 60 }));
    const resumed = actors.start(rule({ id: 'resumed', for_seconds: 60 }), { state: 'pending', context: { since: 1, activeAt: 1, value: 90 } });
    expect([idle.created, eager.created, resumed.created]).toEqual([false, true, true]);
    // Listed and counted all the same; its view is the snapshot its actor starts with.
    expect([...registry.entries('rule')].map((e) => e.id)).toEqual(['rule:idle', 'rule:eager', 'rule:resumed']);
    expect(actors.countByState()).toMatchObject({ ok: 2, pending: 1 });
    const peeked = viewOf(registry.get('rule:idle')!, true);
    expect(idle.created).toBe(false);
    expect(actors.persisted().map((p) => p.actorId)).toEqual(['rule:eager', 'rule:resumed']);
    // An edit before its first use is what the actor is created with.
    actors.update(rule({ id: 'idle', threshold: 95 }));
    expect(idle.created).toBe(false);
    const at = Date.now();
    // An evaluation that moves it nowhere (90 is under the edited 95) leaves it without an actor.
    expect(actors.deliver(idle, { type: 'EVALUATE', at, now: at, value: 90, ts: at })).toBeNull();
    expect(idle.created).toBe(false);
    const changes: unknown[] = [];
    const watching = registry.changes().subscribe((change) => changes.push([change.actorId, change.snapshot.value]));
    // A fire needs no timer: XState's transition is taken without an actor, and announced as an actor's change.
    expect(actors.deliver(idle, { type: 'EVALUATE', at: at + 1, now: at + 1, value: 99, ts: at + 1 })).toBeNull();
    watching.unsubscribe();
    expect(idle.created).toBe(false);
    expect(changes).toEqual([['rule:idle', { firing: 'active' }]]);
    expect(fired).toEqual([expect.objectContaining({ value: 99 })]);
    expect(viewOf(registry.get('rule:idle')!, true)).toMatchObject({ value: { firing: 'active' }, context: { value: 99, triggeredAt: at + 1 } });
    expect(actors.countByState()).toMatchObject({ ok: 1, pending: 1, firing: 1 });
    expect(peeked).toMatchObject({ status: 'active', value: 'ok', context: { evaluatedAt: null, value: null, wakeAt: null } });
    expect(actors.persisted()).toEqual([
      { actorId: 'rule:idle', snapshot: expect.objectContaining({ state: 'firing' }) },
      expect.objectContaining({ actorId: 'rule:eager' }),
      expect.objectContaining({ actorId: 'rule:resumed' }),
    ]);
    // An edit once it moved: the actor is created from the snapshot it holds, and applies the edit.
    actors.update(rule({ id: 'idle', threshold: 97 }));
    expect(idle.created).toBe(true);
    expect(idle.actor.getSnapshot()).toMatchObject({ value: { firing: 'active' }, context: { value: 99, triggeredAt: at + 1, rule: { threshold: 97 } } });
    expect(actors.deliver(idle, { type: 'EVALUATE', at: at + 2, now: at + 2, value: 10, ts: at + 2 })).toBeNull();
    expect(idle.actor.getSnapshot().value).toBe('ok');
    actors.stopAll();
    expect(registry.size).toBe(0);
    expect(actors.size).toBe(0);
    expect(eager.actor.getSnapshot().status).toBe('done');
    expect(resumed.actor.getSnapshot().status).toBe('done');
  });

  it('stops a rule never used without creating its actor, returning its initial state', () => {
    const { actors, registry } = wired();
    const idle = actors.start(rule({ id: 'idle' }));
    const last = actors.stop('idle');
    expect(last).toMatchObject({ state: 'ok', context: { value: null, evaluatedAt: null } });
    expect(idle.created).toBe(false);
    expect(registry.get('rule:idle')).toBeUndefined();
    expect(actors.route(idle.rule.device_id, idle.rule.metric)).toBeUndefined();
  });

  it('creates a rule actor at its first use the same as at start: same context once evaluated', () => {
    const lazy = wired();
    const eager = wired();
    const at = Date.now();
    const a = lazy.actors.start(rule({ id: 'x', threshold: 50 }));
    // A nodata rule is created at once; edited to drop nodata it keeps its actor: the reference.
    const b = eager.actors.start(rule({ id: 'x', threshold: 50, nodata_seconds: 3600 }));
    eager.actors.update(rule({ id: 'x', threshold: 50 }));
    for (const [i, value] of [10, 60, 20].entries()) {
      lazy.actors.deliver(a, { type: 'EVALUATE', at: at + i, now: at + i, value, ts: at + i });
      eager.actors.deliver(b, { type: 'EVALUATE', at: at + i, now: at + i, value, ts: at + i });
    }
    const strip = ({ rule: _r, now: _n, ...rest }: Record<string, unknown>) => rest;
    expect(a.actor.getSnapshot().value).toEqual(b.actor.getSnapshot().value);
    expect(strip(a.actor.getSnapshot().context as never)).toEqual(strip(b.actor.getSnapshot().context as never));
    lazy.actors.stopAll();
    eager.actors.stopAll();
  });
});

describe('rule actors: interval evaluation', () => {
  const reading = (device_id: string, value: number) => ({ device_id, metric: 'temperature', value, ts: new Date().toISOString() });

  it('judges rules not created yet without resolving a state per rule', () => {
    const machine = alertMachine.provide({});
    const resolveState = vi.spyOn(machine, 'resolveState');
    const actors = createRuleActors({ registry: new ActorRegistry(), logger: createLogger('silent'), machine, now: Date.now });
    for (let i = 0; i < 100; i++) actors.start(rule({ id: `r${i}`, device_id: `d${i}`, threshold: 80 }));
    const quiet = Array.from({ length: 100 }, (_, i) => reading(`d${i}`, 20));
    expect(actors.evaluate(quiet)).toEqual({ evaluations: 100, errors: 0, lastError: null });
    expect(actors.evaluate(quiet).evaluations).toBe(100);
    expect(resolveState.mock.calls.length).toBeLessThanOrEqual(1);
    // Still judged on its own context: the one breaching rule moves, the others stay without an actor.
    actors.evaluate([reading('d7', 95)]);
    expect(actors.get('r7')!.actor.getSnapshot().value).toEqual({ firing: 'active' });
    expect([...actors.entries()].filter((entry) => entry.created).map((entry) => entry.rule.id)).toEqual(['r7']);
    actors.stopAll();
  });

  it('a rule whose actor fails is restarted and waits for the next evaluation: not evaluated again in the same pass', () => {
    let calls = 0;
    // Fails its first evaluations, then behaves (so that evaluating it again and again would end).
    const machine = alertMachine.provide({
      guards: {
        silent: () => {
          if (++calls <= 6) throw new Error('guard failed');
          return false;
        },
      },
    });
    const actors = createRuleActors({ registry: new ActorRegistry(), logger: createLogger('silent'), machine, now: Date.now });
    // Watching for silence, so XState's own guards decide (a quiet rule without a watch is judged by
    // `quietInOk`, which reads the machine's guards, never a provided one).
    actors.start(rule({ id: 'alone', device_id: 'a', threshold: 80, nodata_seconds: 3600 }));
    actors.start(rule({ id: 'other', device_id: 'b', threshold: 80, nodata_seconds: 3600 }));
    const outcome = actors.evaluate([reading('a', 20), reading('b', 20)]);
    expect(outcome).toMatchObject({ evaluations: 2, errors: 2 });
    expect(outcome.lastError).toContain('guard failed');
    expect(actors.size).toBe(2);
    actors.stopAll();
  });
});
