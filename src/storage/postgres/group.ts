import type { PoolClient, QueryConfig, QueryResult } from 'pg';
import type { Settled } from '../group-commit.ts';

/** One call of a group: its statements, sent back to back in its savepoint, and how their results make its value. */
export interface GroupCall<R = unknown> {
  /** Calls run ordered by key (stably, so calls with one key keep their order). */
  key: string;
  statements: QueryConfig[];
  /** The call's value. Runs once later calls were sent, so it may throw only when the call wrote nothing. */
  result(results: QueryResult[]): R;
}

const SAVEPOINT = 'SAVEPOINT vigil_call';
// One message: releasing the previous call's savepoint keeps its writes, and the new one guards the next call.
const NEXT_SAVEPOINT = 'RELEASE SAVEPOINT vigil_call; SAVEPOINT vigil_call';
const ROLLBACK_TO = 'ROLLBACK TO SAVEPOINT vigil_call';

/** A promise's outcome, as a value: queries sent ahead may fail while an earlier failure is handled. */
const settle = <T>(promise: Promise<T>): Promise<Settled<T>> =>
  promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

const valueOf = <T>(settled: Settled<T>): T => {
  if (!settled.ok) throw settled.error;
  return settled.value;
};

/**
 * Runs `calls` inside the transaction open on `client` (in pipeline mode), each behind a savepoint of
 * its own, all sent without waiting for replies. A failing statement aborts the transaction for every
 * statement sent behind it, so at the first failing call: ROLLBACK TO its savepoint (undoing it alone),
 * then send the calls after it again. Rejects when a savepoint itself fails: the group is then lost.
 *
 * Calls run in key order, so groups of several instances lock rows in one order and cannot deadlock.
 */
export async function runGroupCalls(client: PoolClient, calls: GroupCall[]): Promise<Settled<unknown>[]> {
  const order = calls.map((_, i) => i).sort((a, b) => (calls[a].key < calls[b].key ? -1 : calls[a].key > calls[b].key ? 1 : a - b));
  const outcomes: Settled<unknown>[] = new Array(calls.length);
  let established = false;
  let from = 0;
  while (from < order.length) {
    const sent = order.slice(from).map((index) => {
      const savepoint = settle(client.query(established ? NEXT_SAVEPOINT : SAVEPOINT));
      established = true;
      return { index, savepoint, statements: calls[index].statements.map((statement) => settle(client.query(statement))) };
    });
    from = order.length;
    for (const [i, { index, savepoint, statements }] of sent.entries()) {
      valueOf(await savepoint);
      const results = await Promise.all(statements);
      const failed = results.find((result) => !result.ok);
      if (failed !== undefined) {
        outcomes[index] = failed;
        // The savepoint stays after ROLLBACK TO, clean, for the next call to release.
        valueOf(await settle(client.query(ROLLBACK_TO)));
        from = order.length - sent.length + i + 1;
        break;
      }
      try {
        outcomes[index] = { ok: true, value: calls[index].result(results.map(valueOf)) };
      } catch (error) {
        outcomes[index] = { ok: false, error };
      }
    }
  }
  return outcomes;
}
