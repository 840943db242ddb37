import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createActor, fromPromise } from 'xstate';
import { publisherMachine, type PublishRequest } from '../../src/actors/publisher.ts';
import type { PublishReceipt } from '../../src/streams/broker.ts';

/** A publisher whose publish effect is a promise the test controls. */
function publisherWith(publish: (request: PublishRequest) => Promise<PublishReceipt>, periodMs = 1_000) {
  const reported: string[] = [];
  const machine = publisherMachine.provide({
    actors: { publish: fromPromise<PublishReceipt, PublishRequest>(({ input }) => publish(input)) },
    actions: {
      reportPublished: (_, { receipt }) => void reported.push(`published ${receipt.offset}`),
      reportFailed: (_, { error }) => void reported.push(`failed ${(error as Error).message}`),
      reportSkipped: (_, { n }) => void reported.push(`skipped ${n}`),
    },
  });
  const actor = createActor(machine, { input: { periodMs } });
  return { actor, reported };
}

const receipt = (offset: number): PublishReceipt => ({ topic: 'system-alerts', partition: 0, offset: String(offset) });

describe('publisherMachine', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('waits in idle until START, then publishes once per tick', async () => {
    let offset = 0;
    const requests: PublishRequest[] = [];
    const { actor, reported } = publisherWith(async (request) => {
      requests.push(request);
      return receipt(offset++);
    });
    actor.start();
    expect(actor.getSnapshot().value).toBe('idle');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(requests).toHaveLength(0);

    actor.send({ type: 'START' });
    expect(actor.getSnapshot().matches('running')).toBe(true);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(requests.map((r) => r.tick.n)).toEqual([1, 2, 3]);
    expect(actor.getSnapshot().context).toMatchObject({ published: 3, failed: 0, lastTick: 3 });
    expect(reported).toEqual(['published 0', 'published 1', 'published 2']);
    actor.stop();
  });

  it('counts a failed publish and still publishes on the next tick', async () => {
    let calls = 0;
    const { actor, reported } = publisherWith(async () => {
      calls++;
      if (calls === 1) throw new Error('broker down');
      return receipt(calls);
    });
    actor.start();
    actor.send({ type: 'START' });
    await vi.advanceTimersByTimeAsync(2_000);
    const { context } = actor.getSnapshot();
    expect(context).toMatchObject({ published: 1, failed: 1, lastError: null });
    expect(reported).toEqual(['failed broker down', 'published 2']);
    actor.stop();
  });

  it('counts a tick that arrives while a publish is in flight as skipped', async () => {
    const { actor, reported } = publisherWith(
      () => new Promise((resolve) => setTimeout(() => resolve(receipt(0)), 1_500)),
    );
    actor.start();
    actor.send({ type: 'START' });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(actor.getSnapshot().context.skipped).toBe(1);
    expect(reported).toContain('skipped 2');
    actor.stop();
  });

  it('on STOP while publishing, finishes the publication and then stops', async () => {
    const { actor } = publisherWith(() => new Promise((resolve) => setTimeout(() => resolve(receipt(7)), 300)));
    actor.start();
    actor.send({ type: 'START' });
    await vi.advanceTimersByTimeAsync(1_100);
    expect(actor.getSnapshot().matches({ running: 'publishing' })).toBe(true);
    actor.send({ type: 'STOP' });
    expect(actor.getSnapshot().matches({ running: 'publishing' })).toBe(true);
    await vi.advanceTimersByTimeAsync(300);
    expect(actor.getSnapshot().value).toBe('stopped');
    expect(actor.getSnapshot().status).toBe('done');
    expect(actor.getSnapshot().context.published).toBe(1);
  });

  it('stops ticking once stopped', async () => {
    const publish = vi.fn(async () => receipt(0));
    const { actor } = publisherWith(publish);
    actor.start();
    actor.send({ type: 'START' });
    await vi.advanceTimersByTimeAsync(1_000);
    actor.send({ type: 'STOP' });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(publish).toHaveBeenCalledTimes(1);
  });

  it('resumes its counts from a restored context', () => {
    const actor = createActor(publisherMachine, { input: { periodMs: 1_000, restored: { published: 41, failed: 2 } } });
    actor.start();
    expect(actor.getSnapshot().context).toMatchObject({ published: 41, failed: 2, skipped: 0 });
    actor.stop();
  });
});
