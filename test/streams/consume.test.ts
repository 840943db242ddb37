import { Subject } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Batch, Broker, BrokerMessage } from '../../src/streams/broker.ts';
import { createMemoryBroker } from '../../src/streams/brokers/memory.ts';
import { consumeBatches, type BatchContent, type BatchResult } from '../../src/streams/consume.ts';

/** A broker whose batches the test pushes by hand. */
const scriptedBroker = () => {
  const batches = new Subject<Batch>();
  const consume = vi.fn((_topics: string[], _options: unknown) => batches.asObservable());
  const broker: Broker = {
    kind: 'scripted',
    publish: async () => ({ topic: 't', partition: 0, offset: '0' }),
    consume,
    health: async () => ({ ok: true }),
    close: async () => undefined,
  };
  return { broker, batches, consume };
};

const message = (offset: number): BrokerMessage => ({
  topic: 't',
  partition: 0,
  offset: String(offset),
  key: null,
  value: offset,
  timestamp: new Date(0).toISOString(),
});

const batchOf = (partition: number, offsets: number[]) => ({
  topic: 't',
  partition,
  messages: offsets.map(message),
  ack: vi.fn(),
  nack: vi.fn(),
});

const deferred = () => {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('consumeBatches', () => {
  it('passes the topics and options to the broker', () => {
    const { broker, consume } = scriptedBroker();
    consumeBatches(broker, ['a', 'b'], { groupId: 'g', batchSize: 5 }, async () => undefined).subscribe();
    expect(consume).toHaveBeenCalledWith(['a', 'b'], { groupId: 'g', batchSize: 5 });
  });

  it('runs one handler at a time, acks each batch after its handler resolved, and reports it', async () => {
    const { broker, batches } = scriptedBroker();
    const running: Array<ReturnType<typeof deferred>> = [];
    const handled: BatchContent[] = [];
    const results: BatchResult[] = [];
    consumeBatches(broker, ['t'], { groupId: 'g' }, (batch) => {
      handled.push(batch);
      const pending = deferred();
      running.push(pending);
      return pending.promise;
    }).subscribe((result) => results.push(result));

    const first = batchOf(0, [0, 1]);
    const second = batchOf(1, [0]);
    batches.next(first);
    batches.next(second);
    await flush();
    expect(handled).toHaveLength(1);
    expect(first.ack).not.toHaveBeenCalled();

    running[0].resolve();
    await flush();
    expect(first.ack).toHaveBeenCalledTimes(1);
    expect(handled).toHaveLength(2);
    expect(handled[1]).toEqual({ topic: 't', partition: 1, messages: [message(0)] });
    expect(second.ack).not.toHaveBeenCalled();

    running[1].resolve();
    await flush();
    expect(second.ack).toHaveBeenCalledTimes(1);
    expect(results).toEqual([
      { topic: 't', partition: 0, count: 2, ok: true },
      { topic: 't', partition: 1, count: 1, ok: true },
    ]);
  });

  it('nacks a batch whose handler rejects or throws, reports the error, and goes on', async () => {
    const { broker, batches } = scriptedBroker();
    const results: BatchResult[] = [];
    const rejected = new Error('store down');
    const thrown = new Error('bad message');
    let calls = 0;
    const subscription = consumeBatches(broker, ['t'], { groupId: 'g' }, (batch) => {
      calls += 1;
      if (calls === 1) return Promise.reject(rejected);
      if (calls === 2) throw thrown;
      return Promise.resolve();
    }).subscribe((result) => results.push(result));

    const failing = batchOf(0, [0]);
    const throwing = batchOf(0, [1]);
    const fine = batchOf(0, [2]);
    [failing, throwing, fine].forEach((batch) => batches.next(batch));
    await flush();
    expect(failing.nack).toHaveBeenCalledWith(rejected);
    expect(failing.ack).not.toHaveBeenCalled();
    expect(throwing.nack).toHaveBeenCalledWith(thrown);
    expect(fine.ack).toHaveBeenCalledTimes(1);
    expect(results.map(({ ok, error }) => ({ ok, error }))).toEqual([
      { ok: false, error: rejected },
      { ok: false, error: thrown },
      { ok: true, error: undefined },
    ]);
    expect(subscription.closed).toBe(false);
  });

  it('hands the handler the messages, not the acknowledgement', async () => {
    const { broker, batches } = scriptedBroker();
    const seen: BatchContent[] = [];
    consumeBatches(broker, ['t'], { groupId: 'g' }, async (batch) => {
      seen.push(batch);
    }).subscribe();
    batches.next(batchOf(0, [0]));
    await flush();
    expect(Object.keys(seen[0]).sort()).toEqual(['messages', 'partition', 'topic']);
  });

  describe('with the memory broker', () => {
    const broker = createMemoryBroker({ redelivery: { initialMs: 5, maxMs: 5, jitter: 'none' } });
    afterEach(async () => {
      await broker.close();
    });

    it('gets a failed batch again and commits it once the handler succeeds', async () => {
      let failuresLeft = 2;
      const seen: unknown[][] = [];
      const results: BatchResult[] = [];
      const subscription = consumeBatches(broker, ['readings'], { groupId: 'g', batchMs: 0 }, async (batch) => {
        seen.push(batch.messages.map((each) => each.value));
        if (failuresLeft > 0) {
          failuresLeft -= 1;
          throw new Error('transient');
        }
      }).subscribe((result) => results.push(result));

      await broker.publish('readings', { v: 1 });
      await vi.waitFor(() => expect(results.filter((result) => result.ok)).toHaveLength(1), { timeout: 2_000 });
      expect(seen).toEqual([[{ v: 1 }], [{ v: 1 }], [{ v: 1 }]]);
      expect(results.map((result) => result.ok)).toEqual([false, false, true]);
      subscription.unsubscribe();
    });
  });
});
