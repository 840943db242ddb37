/** One call's outcome within a group: its value, or the error that rolled back its writes alone. */
export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

/** Options of `groupCommit`. */
export interface GroupCommitOptions<C, R> {
  /**
   * Runs `calls` in ONE transaction, in the order given, each isolated (a savepoint) so that a failing
   * call rolls back only its own writes; resolves after COMMIT with one outcome per call, in order.
   * Rejecting means nothing of the group was committed: every call of the group fails with that error.
   */
  runGroup(calls: C[]): Promise<Settled<R>[]>;
  /** Most calls in one group; a queue this long starts a group at once (default 256). */
  maxGroupSize?: number;
}

/** Calls committed together: at most one group runs at a time, and calls arriving meanwhile form the next. */
export interface GroupCommit<C, R> {
  /** Resolves with the call's value once its group committed; rejects with its own error or its group's. */
  submit(call: C): Promise<R>;
}

// Taken at load: fake timers installed by a test later replace the global, and commits must not wait for them.
const realSetImmediate = globalThis.setImmediate;

interface Waiting<C, R> {
  call: C;
  resolve(value: R): void;
  reject(error: unknown): void;
}

/**
 * Group commit: concurrent calls share one transaction, hence one commit (one fsync, one round trip),
 * instead of paying one each. Calls run in submission order, so calls about one key keep their order.
 */
export function groupCommit<C, R>({ runGroup, maxGroupSize = 256 }: GroupCommitOptions<C, R>): GroupCommit<C, R> {
  if (!(Number.isInteger(maxGroupSize) && maxGroupSize >= 1)) {
    throw new RangeError(`maxGroupSize must be an integer ≥ 1, got ${maxGroupSize}`);
  }
  const queue: Waiting<C, R>[] = [];
  let running = false;
  let scheduled = false;

  const finish = (group: Waiting<C, R>[], settle: (waiting: Waiting<C, R>, i: number) => void) => {
    group.forEach(settle);
    running = false;
    schedule();
  };

  const flush = () => {
    if (running || queue.length === 0) return;
    running = true;
    const group = queue.splice(0, maxGroupSize);
    let outcomes: Promise<Settled<R>[]>;
    try {
      outcomes = runGroup(group.map((waiting) => waiting.call));
    } catch (error) {
      outcomes = Promise.reject(error);
    }
    outcomes.then(
      (settled) =>
        finish(group, (waiting, i) => {
          const outcome = settled[i];
          if (outcome === undefined) waiting.reject(new Error(`runGroup returned ${settled.length} outcomes for ${group.length} calls`));
          else if (outcome.ok) waiting.resolve(outcome.value);
          else waiting.reject(outcome.error);
        }),
      (error: unknown) => finish(group, (waiting) => waiting.reject(error)),
    );
  };

  // The group starts in the check phase after the callbacks of this poll phase: requests whose bodies
  // arrived together share it. process.nextTick grouped nothing on SQLite, where a group commits
  // synchronously: each request's callback was followed by its own commit (1.00 calls a group with 16
  // requests in flight, 7.4 with setImmediate, −37 % CPU a request).
  function schedule(): void {
    if (scheduled || running || queue.length === 0) return;
    scheduled = true;
    realSetImmediate(() => {
      scheduled = false;
      flush();
    });
  }

  return {
    submit(call) {
      return new Promise<R>((resolve, reject) => {
        queue.push({ call, resolve, reject });
        if (queue.length >= maxGroupSize) flush();
        else schedule();
      });
    },
  };
}
