import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { groupCommit, type Settled } from '../../src/storage/group-commit.ts';

/** A call of the model: write `value` under `key`, failing (rolled back alone) when `fails`. */
interface Write {
  id: number;
  key: string;
  value: number;
  fails: boolean;
}

/**
 * A fake database with real transaction semantics: a group stages its calls' writes (each call undone
 * alone when it fails, as a savepoint would) and publishes them at COMMIT, or nothing when the commit fails.
 */
function fakeDatabase(commitFails: (group: number) => boolean = () => false) {
  const committed: Write[] = [];
  const groups: number[][] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const runGroup = async (calls: Write[]): Promise<Settled<number>[]> => {
    const group = groups.push(calls.map((c) => c.id)) - 1;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const staged: Write[] = [];
    const outcomes = calls.map((call): Settled<number> => {
      if (call.fails) return { ok: false, error: new Error(`call ${call.id} failed`) };
      staged.push(call);
      return { ok: true, value: call.id * 10 };
    });
    // The commit takes a while: calls made meanwhile must wait for the next group.
    await new Promise((resolve) => setTimeout(resolve, 1));
    inFlight--;
    if (commitFails(group)) throw new Error(`commit of group ${group} failed`);
    committed.push(...staged);
    return outcomes;
  };
  return { committed, groups, runGroup, maxInFlight: () => maxInFlight };
}

const write = (id: number, overrides: Partial<Write> = {}): Write => ({ id, key: `k${id}`, value: id, fails: false, ...overrides });

describe('groupCommit', () => {
  it('commits calls made in one tick as one group and resolves each caller with its own result', async () => {
    const db = fakeDatabase();
    const batcher = groupCommit({ runGroup: db.runGroup });
    const results = await Promise.all([1, 2, 3].map((id) => batcher.submit(write(id))));
    expect(results).toEqual([10, 20, 30]);
    expect(db.groups).toEqual([[1, 2, 3]]);
  });

  it('queues calls made while a group commits and runs them as the next group, one group at a time', async () => {
    const db = fakeDatabase();
    const batcher = groupCommit({ runGroup: db.runGroup });
    const first = batcher.submit(write(1));
    await new Promise((resolve) => setImmediate(resolve));
    const later = [2, 3, 4].map((id) => batcher.submit(write(id)));
    await Promise.all([first, ...later]);
    expect(db.groups).toEqual([[1], [2, 3, 4]]);
    expect(db.maxInFlight()).toBe(1);
  });

  it('with a synchronous store (SQLite), calls made by separate callbacks of one event-loop phase share a group', async () => {
    // Each HTTP request is its own I/O callback; a commit right after each callback groups nothing.
    const groups: number[][] = [];
    const batcher = groupCommit<number, number>({
      runGroup: (calls) => {
        groups.push([...calls]);
        return Promise.resolve(calls.map((value) => ({ ok: true as const, value })));
      },
    });
    const results = await Promise.all(
      [1, 2, 3].map((id) => new Promise<number>((resolve, reject) => setImmediate(() => batcher.submit(id).then(resolve, reject)))),
    );
    expect(results).toEqual([1, 2, 3]);
    expect(groups).toEqual([[1, 2, 3]]);
  });

  it('commits even while a test has faked the timers', async () => {
    vi.useFakeTimers();
    try {
      const batcher = groupCommit({ runGroup: (calls: Write[]) => Promise.resolve(calls.map((c) => ({ ok: true as const, value: c.id }))) });
      await expect(batcher.submit(write(1))).resolves.toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a failing call rejects alone; the others of its group commit', async () => {
    const db = fakeDatabase();
    const batcher = groupCommit({ runGroup: db.runGroup });
    const settled = await Promise.allSettled([write(1), write(2, { fails: true }), write(3)].map((w) => batcher.submit(w)));
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(db.committed.map((w) => w.id)).toEqual([1, 3]);
  });

  it('a failed commit rejects every call of that group and not the next group', async () => {
    const db = fakeDatabase((group) => group === 0);
    const batcher = groupCommit({ runGroup: db.runGroup });
    const first = [1, 2].map((id) => batcher.submit(write(id)));
    await new Promise((resolve) => setImmediate(resolve));
    const second = batcher.submit(write(3));
    await expect(first[0]).rejects.toThrow('commit of group 0 failed');
    await expect(first[1]).rejects.toThrow('commit of group 0 failed');
    await expect(second).resolves.toBe(30);
    expect(db.committed.map((w) => w.id)).toEqual([3]);
  });

  it('a runGroup that throws synchronously rejects its group without stalling the queue', async () => {
    let calls = 0;
    const batcher = groupCommit<number, number>({
      runGroup: (group) => {
        if (calls++ === 0) throw new Error('no connection');
        return Promise.resolve(group.map((value) => ({ ok: true as const, value })));
      },
    });
    await expect(batcher.submit(1)).rejects.toThrow('no connection');
    await expect(batcher.submit(2)).resolves.toBe(2);
  });

  it('caps a group at maxGroupSize and starts it without waiting for the tick to end', async () => {
    const db = fakeDatabase();
    const batcher = groupCommit({ runGroup: db.runGroup, maxGroupSize: 2 });
    const pending = [1, 2, 3, 4, 5].map((id) => batcher.submit(write(id)));
    expect(db.groups).toEqual([[1, 2]]);
    await Promise.all(pending);
    expect(db.groups).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('rejects a maxGroupSize that is not a positive integer', () => {
    expect(() => groupCommit({ runGroup: async () => [], maxGroupSize: 0 })).toThrow(RangeError);
  });

  it('property: successful calls commit exactly once, failed ones leave nothing, results reach their callers, per-key order holds', async () => {
    // A script: each step submits some calls (over few keys), then lets time pass (nothing, microtasks, or a timer).
    const step = fc.record({
      calls: fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c'), fails: fc.boolean() }), { maxLength: 6 }),
      wait: fc.constantFrom('none', 'microtask', 'timer'),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 8 }), fc.integer({ min: 1, max: 5 }), fc.func(fc.boolean()), async (script, maxGroupSize, commitFails) => {
        const db = fakeDatabase((group) => commitFails(group));
        const batcher = groupCommit({ runGroup: db.runGroup, maxGroupSize });
        const submitted: { call: Write; outcome: Promise<Settled<number>> }[] = [];
        let id = 0;
        for (const { calls, wait } of script) {
          for (const { key, fails } of calls) {
            const call = write(++id, { key, fails });
            const outcome = batcher.submit(call).then(
              (value) => ({ ok: true as const, value }),
              (error: unknown) => ({ ok: false as const, error }),
            );
            submitted.push({ call, outcome });
          }
          if (wait === 'microtask') await Promise.resolve();
          if (wait === 'timer') await new Promise((resolve) => setTimeout(resolve, 0));
        }
        const outcomes = await Promise.all(submitted.map((s) => s.outcome));

        const succeeded = submitted.filter((_, i) => outcomes[i].ok).map((s) => s.call);
        expect([...db.committed].sort((x, y) => x.id - y.id)).toEqual(succeeded);
        submitted.forEach(({ call }, i) => {
          if (call.fails) expect(outcomes[i].ok).toBe(false);
          else if (outcomes[i].ok) expect(outcomes[i]).toEqual({ ok: true, value: call.id * 10 });
        });
        for (const key of ['a', 'b', 'c']) {
          const ids = db.committed.filter((w) => w.key === key).map((w) => w.id);
          expect(ids).toEqual([...ids].sort((x, y) => x - y));
        }
        expect(db.groups.flat().sort((x, y) => x - y)).toEqual(submitted.map((s) => s.call.id));
        expect(db.groups.every((g) => g.length <= maxGroupSize)).toBe(true);
        expect(db.maxInFlight()).toBeLessThanOrEqual(1);
      }),
      { numRuns: 100 },
    );
  });
});
