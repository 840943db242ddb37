import { afterEach, describe, expect, it, vi } from 'vitest';
import { BrokerError } from '../../../src/errors.ts';
import type { Batch, Broker } from '../../../src/streams/broker.ts';
import { createMemoryBroker } from '../../../src/streams/brokers/memory.ts';
import { runBrokerContract } from '../../contract/broker.contract.ts';

const quickRedelivery = { initialMs: 10, maxMs: 50, jitter: 'none' } as const;

runBrokerContract('memory, 1 partition', { create: () => createMemoryBroker({ redelivery: quickRedelivery }) });
runBrokerContract('memory, 4 partitions', { create: () => createMemoryBroker({ partitions: 4, redelivery: quickRedelivery }) });

/** Flushes the microtasks (and due timers) in which the broker delivers. */
const settle = async (): Promise<void> => {
  await vi.advanceTimersByTimeAsync(0);
};

describe('memory broker', () => {
  const open: Broker[] = [];
  const broker = (options: Parameters<typeof createMemoryBroker>[0] = {}): Broker => {
    const created = createMemoryBroker({ redelivery: quickRedelivery, ...options });
    open.push(created);
    return created;
  };

  afterEach(async () => {
    await Promise.all(open.splice(0).map((each) => each.close()));
    vi.useRealTimers();
  });

  /** Subscribes and keeps every batch; acks them when `ack` is true. */
  const collect = (source: Broker, topic: string, groupId: string, options: { ack?: boolean; batchSize?: number; batchMs?: number; fromBeginning?: boolean } = {}) => {
    const { ack = true, ...consume } = options;
    const batches: Batch[] = [];
    const subscription = source.consume([topic], { groupId, batchSize: 25, batchMs: 0, ...consume }).subscribe((batch) => {
      batches.push(batch);
      if (ack) batch.ack();
    });
    return { batches, values: () => batches.flatMap((batch) => batch.messages.map((message) => message.value)), subscription };
  };

  it('rejects publish with a retriable BROKER_FULL that says what to do once a topic retains maxRetainedMessages', async () => {
    vi.useFakeTimers();
    const memory = broker({ maxRetainedMessages: 5 });
    for (let i = 0; i < 5; i += 1) await memory.publish('full', i);
    const rejection = memory.publish('full', 5);
    await expect(rejection).rejects.toBeInstanceOf(BrokerError);
    await expect(rejection).rejects.toMatchObject({ code: 'BROKER_FULL', retriable: true });
    await expect(rejection).rejects.toThrow(/lagging.*raise maxRetainedMessages/);

    // A group arriving later still gets every retained message, and its acks make room again.
    const consumer = collect(memory, 'full', 'late-group');
    await settle();
    expect(consumer.values()).toEqual([0, 1, 2, 3, 4]);
    await expect(memory.publish('full', 5)).resolves.toMatchObject({ offset: '5' });
  });

  it('trims what every group committed, so a consumer that keeps up never fills the topic', async () => {
    vi.useFakeTimers();
    const memory = broker({ maxRetainedMessages: 50 });
    const consumer = collect(memory, 'busy', 'g', { batchSize: 10 });
    for (let round = 0; round < 25; round += 1) {
      for (let i = 0; i < 40; i += 1) await memory.publish('busy', round * 40 + i);
      await settle();
    }
    expect(consumer.values()).toHaveLength(1_000);
  });

  it('keeps messages for a group that left until it comes back', async () => {
    vi.useFakeTimers();
    const memory = broker({ maxRetainedMessages: 3 });
    const steady = collect(memory, 't', 'steady');
    const away = collect(memory, 't', 'away');
    away.subscription.unsubscribe();
    for (let i = 0; i < 3; i += 1) await memory.publish('t', i);
    await settle();
    expect(steady.values()).toEqual([0, 1, 2]);
    await expect(memory.publish('t', 3)).rejects.toMatchObject({ code: 'BROKER_FULL' });

    const back = collect(memory, 't', 'away');
    await settle();
    expect(back.values()).toEqual([0, 1, 2]);
    await expect(memory.publish('t', 3)).resolves.toMatchObject({ offset: '3' });
  });

  it('sends a key to the same partition every time and spreads unkeyed messages round robin', async () => {
    const memory = broker({ partitions: 4 });
    const partitionsOf = async (key: string) =>
      new Set(await Promise.all([1, 2, 3].map(async (i) => (await memory.publish('keys', i, { key })).partition)));
    const perKey = await Promise.all(['device-1', 'device-2', 'device-3', 'device-4', 'device-5', 'device-6'].map(partitionsOf));
    perKey.forEach((partitions) => expect(partitions.size).toBe(1));
    expect(new Set(perKey.map((partitions) => [...partitions][0])).size).toBeGreaterThan(1);

    const unkeyed = [];
    for (let i = 0; i < 8; i += 1) unkeyed.push((await memory.publish('rr', i)).partition);
    expect(unkeyed).toEqual([0, 1, 2, 3, 0, 1, 2, 3]);
  });

  it('starts a new group at the log end with fromBeginning: false', async () => {
    vi.useFakeTimers();
    const memory = broker();
    for (let i = 0; i < 3; i += 1) await memory.publish('tail', i);
    const consumer = collect(memory, 'tail', 'new', { fromBeginning: false });
    await settle();
    expect(consumer.batches).toEqual([]);
    await memory.publish('tail', 'after');
    await settle();
    expect(consumer.batches.flatMap((batch) => batch.messages.map((message) => [message.offset, message.value]))).toEqual([['3', 'after']]);
  });

  it('never delivers inside publish', async () => {
    vi.useFakeTimers();
    const memory = broker();
    const consumer = collect(memory, 'async', 'g', { batchSize: 1 });
    await settle();
    const published = memory.publish('async', 'x');
    expect(consumer.batches).toEqual([]);
    await published;
    await settle();
    expect(consumer.values()).toEqual(['x']);
  });

  it('closes a batch batchMs after its first message, by the clock', async () => {
    vi.useFakeTimers();
    const memory = broker();
    const consumer = collect(memory, 'window', 'g', { batchMs: 5_000 });
    await memory.publish('window', 1);
    await vi.advanceTimersByTimeAsync(2_000);
    await memory.publish('window', 2);
    await vi.advanceTimersByTimeAsync(2_999);
    expect(consumer.batches).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(consumer.values()).toEqual([1, 2]);
  });

  it('backs off between redeliveries of a batch that keeps failing, and forgets the failures after an ack', async () => {
    vi.useFakeTimers();
    const memory = broker({ redelivery: { initialMs: 100, factor: 2, maxMs: 1_000, jitter: 'none' } });
    const arrivals: number[] = [];
    const start = Date.now();
    memory.consume(['flaky'], { groupId: 'g', batchMs: 0 }).subscribe((batch) => {
      arrivals.push(Date.now() - start);
      if (arrivals.length <= 2) batch.nack(new Error('failed'));
      else batch.ack();
    });
    await memory.publish('flaky', 'x');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(arrivals).toEqual([0, 100, 300]);
  });

  it('redelivers exactly the nacked messages, even when more arrived meanwhile', async () => {
    vi.useFakeTimers();
    const memory = broker();
    const consumer = collect(memory, 'replay', 'g', { ack: false });
    await memory.publish('replay', 'a');
    await settle();
    await memory.publish('replay', 'b');
    await memory.publish('replay', 'c');
    consumer.batches[0].nack(new Error('failed'));
    await vi.advanceTimersByTimeAsync(10);
    consumer.batches[1].ack();
    await settle();
    expect(consumer.batches.map((batch) => batch.messages.map((message) => message.value))).toEqual([['a'], ['a'], ['b', 'c']]);
  });

  it('shares the partitions between the members of a group, and moves them when a member leaves', async () => {
    vi.useFakeTimers();
    const memory = broker({ partitions: 4 });
    const a = collect(memory, 'shared', 'g');
    const b = collect(memory, 'shared', 'g');
    for (let i = 0; i < 8; i += 1) await memory.publish('shared', i);
    await settle();
    const partitionsOf = (member: typeof a) => new Set(member.batches.map((batch) => batch.partition));
    expect([...partitionsOf(a)].sort()).toEqual([0, 2]);
    expect([...partitionsOf(b)].sort()).toEqual([1, 3]);

    a.subscription.unsubscribe();
    for (let i = 8; i < 12; i += 1) await memory.publish('shared', i);
    await settle();
    expect(b.values()).toEqual(expect.arrayContaining([8, 9, 10, 11]));
  });

  it('ignores a late ack from a member that left: its batch already went to another member', async () => {
    vi.useFakeTimers();
    const memory = broker();
    const leaving = collect(memory, 'late-ack', 'g', { ack: false });
    await memory.publish('late-ack', 'x');
    await settle();
    leaving.subscription.unsubscribe();
    const next = collect(memory, 'late-ack', 'g', { ack: false });
    await vi.advanceTimersByTimeAsync(50);
    expect(next.values()).toEqual(['x']);

    leaving.batches[0].ack();
    next.batches[0].nack(new Error('failed'));
    await vi.advanceTimersByTimeAsync(50);
    expect(next.values()).toEqual(['x', 'x']);
  });

  it('gives each group its own copy of a value, and rejects values JSON cannot carry', async () => {
    vi.useFakeTimers();
    const memory = broker();
    const first = collect(memory, 'copies', 'a');
    const second = collect(memory, 'copies', 'b');
    await memory.publish('copies', { n: 1 });
    await settle();
    (first.values()[0] as { n: number }).n = 99;
    expect(second.values()).toEqual([{ n: 1 }]);
    await expect(memory.publish('copies', { big: 1n })).rejects.toMatchObject({ code: 'BROKER_INVALID_MESSAGE', retriable: false });
    await expect(memory.publish('copies', undefined)).rejects.toMatchObject({ code: 'BROKER_INVALID_MESSAGE' });
  });

  it('clears every timer on close', async () => {
    vi.useFakeTimers();
    const memory = broker();
    collect(memory, 'timers', 'g', { batchMs: 5_000 });
    await memory.publish('timers', 1);
    await settle();
    expect(vi.getTimerCount()).toBe(1);
    await memory.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it.each([
    ['partitions', { partitions: 0 }],
    ['maxRetainedMessages', { maxRetainedMessages: 1.5 }],
    ['factor', { redelivery: { factor: 0 } }],
  ])('rejects a bad %s with a RangeError naming it', (field, options) => {
    expect(() => createMemoryBroker(options)).toThrow(new RegExp(field));
  });

  it('rejects bad consume options with a RangeError naming the field', () => {
    const memory = broker();
    expect(() => memory.consume(['t'], { groupId: '' })).toThrow(/groupId/);
    expect(() => memory.consume([], { groupId: 'g' })).toThrow(/topics/);
    expect(() => memory.consume(['t'], { groupId: 'g', batchSize: 0 })).toThrow(/batchSize/);
    expect(() => memory.consume(['t'], { groupId: 'g', batchMs: -1 })).toThrow(/batchMs/);
  });
});
