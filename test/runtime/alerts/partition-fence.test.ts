import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPartitionFence, PARTITION_HOLD_PREFIX, type PartitionFence } from '../../../src/runtime/alerts/partition-fence.ts';
import { createLogger } from '../../../src/runtime/logger.ts';
import { createSqliteStore } from '../../../src/storage/sqlite/index.ts';
import type { Store } from '../../../src/storage/store.ts';
import { releaseAfter, storeWithRival } from '../../support/held-lock.ts';

// Two instances' fences on one store, on a clock the test moves: the holds are real rows of the
// store (snapshots under `partition-hold:`), only time is the test's.

let store: Store;
let clock: number;
const fences: PartitionFence[] = [];
const fence = (holder: string, leaseMs = 6_000) => {
  const made = createPartitionFence({ store, logger: createLogger('silent'), leaseMs, now: () => clock, pollMs: 5, holder });
  fences.push(made);
  return made;
};

beforeEach(async () => {
  store = createSqliteStore({ path: ':memory:' });
  await store.migrate();
  clock = Date.parse('2026-01-01T00:00:00.000Z');
});
afterEach(async () => {
  for (const made of fences.splice(0)) made.close();
  await store.close();
});

/** Whether `promise` settled within `ms` of real time. */
const settles = (promise: Promise<unknown>, ms: number) =>
  Promise.race([promise.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);

describe('partition fence', () => {
  it('an adopter waits while another instance holds a partition, and goes on once it is released', async () => {
    const before = fence('before');
    const after = fence('after');
    await before.hold([0, 1]);
    expect(await after.heldElsewhere([0, 1, 2])).toEqual([0, 1]);
    const waiting = after.waitForRelease([1, 2]);
    expect(await settles(waiting, 50)).toBe(false);
    await before.release([1]);
    expect(await settles(waiting, 1_000)).toBe(true);
    // Partition 0 is still held: only what was released stops blocking.
    expect(await after.heldElsewhere([0, 1])).toEqual([0]);
  });

  it("an instance's own holds never block it, and partitions nobody held never did", async () => {
    const only = fence('only');
    await only.hold([3]);
    expect(await only.heldElsewhere([3, 4])).toEqual([]);
    expect(await settles(only.waitForRelease([3, 4]), 200)).toBe(true);
  });

  it('a hold that lapsed (a holder that died) stops blocking once its lease is over', async () => {
    const dead = fence('dead', 1_000);
    const after = fence('after');
    await dead.hold([5]);
    dead.close(); // no renewal: as after a kill -9
    expect(await after.heldElsewhere([5])).toEqual([5]);
    clock += 999;
    expect(await after.heldElsewhere([5])).toEqual([5]);
    clock += 2;
    expect(await after.heldElsewhere([5])).toEqual([]);
  });

  it("leases run on the store's clock, not the instance's: a hold is written and judged by store.now()", async () => {
    // The store's clock a day behind this process's: holds must follow it, whatever Date.now says.
    let storeClock = Date.now() - 86_400_000;
    const onStoreClock: Store = { ...store, now: async () => storeClock };
    const options = { store: onStoreClock, logger: createLogger('silent'), leaseMs: 1_000, pollMs: 5 };
    const before = createPartitionFence({ ...options, holder: 'before' });
    const after = createPartitionFence({ ...options, holder: 'after' });
    fences.push(before, after);
    await before.hold([12]);
    before.close();
    expect(await store.snapshots.load(`${PARTITION_HOLD_PREFIX}12`)).toMatchObject({ holder: 'before', until: storeClock + 1_000 });
    storeClock += 999;
    expect(await after.heldElsewhere([12])).toEqual([12]);
    storeClock += 1;
    expect(await after.heldElsewhere([12])).toEqual([]);
  });

  it("a store without a clock of its own (an embedder's, written before Store.now) leaves the fence on this instance's clock", async () => {
    const withoutClock = { ...store, now: undefined } as unknown as Store;
    const made = createPartitionFence({ store: withoutClock, logger: createLogger('silent'), leaseMs: 1_000, pollMs: 5, holder: 'own-clock' });
    fences.push(made);
    const before = Date.now();
    await made.hold([13]);
    const { until } = (await store.snapshots.load(`${PARTITION_HOLD_PREFIX}13`)) as { until: number };
    expect(until).toBeGreaterThanOrEqual(before + 1_000);
    expect(until).toBeLessThanOrEqual(Date.now() + 1_000);
  });

  it('a revoked partition is no longer renewed: its hold lapses even if the release never comes', async () => {
    const before = fence('before', 30);
    const after = fence('after');
    await before.hold([6, 7]);
    before.letGo([6]);
    const rows = async () => (await store.snapshots.loadAll(PARTITION_HOLD_PREFIX)) as Map<string, { until: number }>;
    const until6 = (await rows()).get(`${PARTITION_HOLD_PREFIX}6`)!.until;
    // Renewals (every 10 ms) write partition 7 only; then the clock passes the lease of 6's last write.
    const deadline = Date.now() + 2_000;
    while ((await rows()).get(`${PARTITION_HOLD_PREFIX}7`)!.until === until6 && Date.now() < deadline) {
      clock += 1;
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
    expect((await rows()).get(`${PARTITION_HOLD_PREFIX}6`)!.until).toBe(until6);
    clock = until6 + 1;
    expect(await after.heldElsewhere([6])).toEqual([]);
  });

  it('an adopter goes on after four leases of its own time even if a hold is still renewed (a holder renewing what it was told to let go of)', async () => {
    const stuck = fence('stuck', 40);
    const after = fence('after', 40);
    await stuck.hold([8]);
    const waiting = after.waitForRelease([8]);
    // The holder keeps renewing; the adopter's clock moves on past four of its leases.
    const timer = setInterval(() => (clock += 20), 5);
    try {
      expect(await settles(waiting, 2_000)).toBe(true);
    } finally {
      clearInterval(timer);
    }
  });

  it('a hold not written because another process held the store is written again soon, not a third of a lease later', async () => {
    const held = await storeWithRival('vigil-fence-');
    const made = createPartitionFence({ store: held.store, logger: createLogger('silent'), leaseMs: 6_000, pollMs: 5, holder: 'adopter' });
    try {
      held.other.exec('BEGIN IMMEDIATE');
      // The first attempt meets the lock (the store's busy wait is 50 ms) and fails; the lock goes at 100 ms.
      releaseAfter(held.other, 100);
      await made.hold([9]);
      expect(await held.store.snapshots.load(`${PARTITION_HOLD_PREFIX}9`)).toBeUndefined();
      // Renewals come every 2 s; the attempt after a failure comes 500 ms later.
      const deadline = Date.now() + 1_500;
      let hold: unknown;
      while ((hold = await held.store.snapshots.load(`${PARTITION_HOLD_PREFIX}9`)) === undefined && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(hold).toMatchObject({ holder: 'adopter', released: false });
    } finally {
      made.close();
      await held.close();
    }
  });
});
