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
    await sleep(350);
    finish();
    const renewed = calls.length;
    expect(renewed).toBeGreaterThanOrEqual(2);
    await sleep(250);
    expect(calls.length).toBe(renewed);
  });

  it('retries a renewal the store could not take at once, not a third of the lease later', async () => {
    const { notifications, calls } = renewals(2);
    const finish = inFlight(notifications, 3_000);
    // First renewal at 1 s, failing twice: retried within 50 + 100 ms, before the next one is due at 2 s.
    await sleep(1_400);
    expect(calls.length).toBe(3);
    expect(calls[2]! - calls[0]!).toBeLessThan(400);
    finish();
  });
});
