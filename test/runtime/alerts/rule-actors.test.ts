import { describe, expect, it } from 'vitest';
import { waitFor } from 'xstate';
import { alertMachine, type AlertIntent } from '../../../src/actors/alert.ts';
import { createLogger } from '../../../src/runtime/logger.ts';
import { ActorRegistry } from '../../../src/runtime/registry.ts';
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
});
