import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors.ts';
import { keepClaimed } from '../../src/runtime/claim-lease.ts';
import { createLogger } from '../../src/runtime/logger.ts';
import type { Notification } from '../../src/domain/notification.ts';

const locked = () => new StoreError('notifications.renew failed: database is locked', { code: 'STORE_FAILED', retriable: true });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const rows = [{ id: 'n1' }, { id: 'n2' }] as Notification[];

/** A store whose first `failures` renewals fail as a lock held elsewhere makes them; records each call's time. */
function renewals(failures: number) {
  const calls: number[] = [];
  const start = Date.now();
  const notifications = {
    async renew(ids: string[]) {
      calls.push(Date.now() - start);
      expect(ids).toEqual(['n1', 'n2']);
      if (calls.length <= failures) throw locked();
    },
  };
  return { notifications, calls };
}

/** Resolves once `condition` holds (checked every 10 ms; fails after 5 s). */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s');
    await sleep(10);
  }
}

/** Starts renewing `rows`' claims as a batch in flight would; the returned function ends the batch. */
function inFlight(notifications: ReturnType<typeof renewals>['notifications'], leaseMs: number): () => void {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  keepClaimed({ notifications, logger: createLogger('silent'), leaseMs, now: Date.now }, rows, done);
  return finish;
}

describe('keepClaimed', () => {
  it('renews every third of the lease while the batch is in flight, and stops when it is done', async () => {
    const { notifications, calls } = renewals(0);
    const finish = inFlight(notifications, 300);
    await until(() => calls.length >= 2);
    expect(calls[1]! - calls[0]!).toBeGreaterThanOrEqual(90);
    finish();
    const renewed = calls.length;
    // Two renewal periods with the batch done: none starts.
    await sleep(250);
    expect(calls.length).toBe(renewed);
  });

  it("stamps renewals with the lease clock (the store's) when given one, not this instance's", async () => {
    const stamps: string[] = [];
    const notifications = { renew: async (_ids: string[], at: string) => void stamps.push(at) };
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    const storeTime = Date.parse('2030-01-01T00:00:00.000Z');
    keepClaimed({ notifications, logger: createLogger('silent'), leaseMs: 60, now: Date.now, leaseNow: async () => storeTime }, rows, done);
    await until(() => stamps.length >= 1);
    finish();
    expect(stamps[0]).toBe('2030-01-01T00:00:00.000Z');
  });

  it('retries a renewal the store could not take at once, not a third of the lease later', async () => {
    const { notifications, calls } = renewals(2);
    const finish = inFlight(notifications, 3_000);
    // The first renewal (at 1 s) fails twice: retried after at most 50 + 100 ms, well before the
    // next renewal is due (1 s later), which is when the failed one was tried again before.
    await until(() => calls.length >= 3);
    expect(calls[0]!).toBeGreaterThanOrEqual(990);
    expect(calls[2]! - calls[0]!).toBeLessThan(900);
    finish();
  });
});
