import { firstValueFrom, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createActor, createMachine, setup } from 'xstate';
import { ActorRegistry, snapshotOf, viewOf } from '../../src/runtime/registry.ts';

const toggle = createMachine({
  id: 'toggle',
  initial: 'off',
  context: { flips: 0 },
  states: { off: { on: { FLIP: 'on' } }, on: { on: { FLIP: 'off' } } },
});

describe('ActorRegistry', () => {
  it('lists a lazy actor at once, answers its snapshot from peek, and creates, watches and starts it on first use', async () => {
    const registry = new ActorRegistry();
    let created = 0;
    const peeked = { status: 'active' as const, output: undefined, error: undefined, value: 'off', context: { flips: 0 } };
    const entry = registry.addLazy({ id: 'l1', kind: 'toggle', machine: toggle, create: () => (created++, createActor(toggle)), peek: () => peeked });
    expect([...registry.entries('toggle')].map((e) => e.id)).toEqual(['l1']);
    expect(viewOf(registry.get('l1')!, true)).toEqual({ id: 'l1', kind: 'toggle', status: 'active', value: 'off', context: { flips: 0 } });
    expect(entry.created).toBe(false);
    expect(created).toBe(0);
    const changes = firstValueFrom(registry.changes().pipe(take(2), toArray()));
    entry.actor.send({ type: 'FLIP' });
    expect(created).toBe(1);
    expect(entry.created).toBe(true);
    expect(snapshotOf(entry).value).toBe('on');
    expect((await changes).map((c) => [c.actorId, c.snapshot.value])).toEqual([['l1', 'off'], ['l1', 'on']]);
    expect(registry.get('l1')!.actor).toBe(entry.actor);
    expect(created).toBe(1);
    expect(() => registry.addLazy({ id: 'l1', kind: 'toggle', machine: toggle, create: () => createActor(toggle), peek: () => peeked })).toThrow(/registered already/);
  });

  it('shows an actor in error with its error text; a healthy one has none', () => {
    const failing = setup({ actions: { explode: () => { throw new Error('threshold column missing'); } } }).createMachine({ initial: 'a', states: { a: { on: { GO: { actions: 'explode' } } } } });
    const registry = new ActorRegistry();
    const actor = createActor(failing);
    registry.add({ id: 'f1', kind: 'rule', actor, machine: failing });
    actor.start();
    expect(viewOf(registry.get('f1')!, false).error).toBeUndefined();
    actor.send({ type: 'GO' });
    expect(viewOf(registry.get('f1')!, false)).toMatchObject({ status: 'error', error: 'threshold column missing' });
  });

  it('emits each snapshot change once, with the actor id and kind', async () => {
    const registry = new ActorRegistry();
    const actor = createActor(toggle);
    registry.add({ id: 't1', kind: 'toggle', actor, machine: toggle });
    const changes = firstValueFrom(registry.changes().pipe(take(3), toArray()));
    actor.start();
    actor.send({ type: 'FLIP' });
    actor.send({ type: 'NOTHING' }); // no transition, same snapshot: not a change
    actor.send({ type: 'FLIP' });
    const seen = await changes;
    expect(seen.map((c) => [c.actorId, c.kind, c.snapshot.value])).toEqual([
      ['t1', 'toggle', 'off'],
      ['t1', 'toggle', 'on'],
      ['t1', 'toggle', 'off'],
    ]);
  });

  it('refuses a second actor with the same id, and stops emitting for a removed one', () => {
    const registry = new ActorRegistry();
    const actor = createActor(toggle).start();
    registry.add({ id: 't1', kind: 'toggle', actor, machine: toggle });
    expect(() => registry.add({ id: 't1', kind: 'toggle', actor, machine: toggle })).toThrow(/registered already/);
    const seen: unknown[] = [];
    registry.changes().subscribe((c) => seen.push(c.snapshot.value));
    expect(registry.remove('t1')?.id).toBe('t1');
    actor.send({ type: 'FLIP' });
    expect(seen).toEqual([]);
    expect(registry.size).toBe(0);
  });

  it('an actor that fails is seen in error, and the failure is not reported as unhandled', async () => {
    const failing = setup({ actions: { explode: () => { throw new Error('boom'); } } }).createMachine({
      initial: 'idle',
      states: { idle: { on: { GO: { actions: 'explode' } } } },
    });
    const registry = new ActorRegistry();
    const actor = createActor(failing);
    registry.add({ id: 'f', kind: 'failing', actor, machine: failing });
    const errored = firstValueFrom(registry.changes().pipe(take(2), toArray()));
    actor.start();
    actor.send({ type: 'GO' });
    const [, last] = await errored;
    expect(last!.snapshot.status).toBe('error');
    // An unhandled actor error is thrown from a timer; give it the chance to surface (vitest fails on it).
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(viewOf(registry.get('f')!, false)).toMatchObject({ id: 'f', status: 'error' });
  });

  it('lists by kind and shows the context in the detailed view', () => {
    const registry = new ActorRegistry();
    registry.add({ id: 'a', kind: 'x', actor: createActor(toggle).start(), machine: toggle });
    registry.add({ id: 'b', kind: 'y', actor: createActor(toggle).start(), machine: toggle });
    expect([...registry.entries('y')].map((e) => e.id)).toEqual(['b']);
    expect(viewOf(registry.get('a')!, true)).toEqual({ id: 'a', kind: 'x', status: 'active', value: 'off', context: { flips: 0 } });
  });
});
