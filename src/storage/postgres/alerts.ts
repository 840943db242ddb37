import type { QueryConfig } from 'pg';
import type { AlertEvent, AlertEventFilter } from '../../domain/alert-event.ts';
import { groupCommit, type Settled } from '../group-commit.ts';
import { newAlertEvent, newNotificationRows } from '../rows.ts';
import type { AlertEventRepository } from '../store.ts';
import { isoTime } from '../timestamps.ts';
import { ALERT_COLUMNS as COLUMNS, type AlertCall, OPEN_FOR, SetAttemptFailed } from './alert-calls.ts';
import { type CommitItem, commitItem, toOutcome, writeAllTogether, writeEachAlone } from './commit.ts';
import type { PostgresConnection } from './connection.ts';

/** Most commits (or single transitions) committed together. */
const MAX_GROUP_SIZE = 256;
// One by one, each item's savepoint is a subtransaction; past 64 in one transaction, PostgreSQL's
// per-backend cache of subtransaction ids overflows and every other session's visibility checks slow down.
const MAX_SAVEPOINTS = 64;
const STATS = `SELECT count(*) AS total, count(*) FILTER (WHERE NOT is_resolved) AS open,
  count(*) FILTER (WHERE is_resolved) AS resolved,
  (avg(extract(epoch FROM resolved_at - triggered_at)) FILTER (WHERE is_resolved))::float8 AS mttr
  FROM alert_events`;

/** The SQL and parameters of a list filter; few shapes, so each text is prepared once per connection. */
function listQuery(filter: AlertEventFilter): { sql: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (clause: string, value: unknown) => {
    params.push(value);
    where.push(clause.replace('?', `$${params.length}`));
  };
  if (filter.alert_id !== undefined) add('alert_id = ?', filter.alert_id);
  if (filter.device_id !== undefined) add('device_id = ?', filter.device_id);
  if (filter.is_resolved !== undefined) add('is_resolved = ?', filter.is_resolved);
  if (filter.since !== undefined) add('triggered_at >= ?', isoTime(filter.since, 'since'));
  if (filter.until !== undefined) add('triggered_at <= ?', isoTime(filter.until, 'until'));
  params.push(filter.limit ?? null);
  const sql = `SELECT ${COLUMNS} FROM alert_events ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY triggered_at DESC, seq DESC LIMIT $${params.length}`;
  return { sql, params };
}

/**
 * Alert events in PostgreSQL. A commit (transitions, their outbox rows and the readings that caused
 * them) is one item of a group commit; items requested while a group is committing form the next
 * group, written in ONE transaction, set-based: a few statements for all the group's transitions
 * (see `writeTogether`), one for all its readings, pipelined on a connection of their own. When that
 * fails, the group is written again one item at a time, each behind a savepoint, so that a failing
 * item fails alone and leaves nothing behind.
 */
/**
 * A statement sent unnamed, so that PostgreSQL plans it for its parameters each time. A named one
 * may settle on a generic plan made while alert_events was small; for the set-based wave
 * statements that plan was a sequential scan, and a run of 20k events in bench/store.ts slowed
 * from 9.5k to 7.7k events/s as the table grew (10.9k/s with plans made per group).
 */
const customPlanned = (text: string, values: unknown[]): QueryConfig => ({ text, values });

export function postgresAlerts(connection: PostgresConnection): AlertEventRepository {
  const { query, pipelinedTransaction } = connection;
  const openFor = async (alertId: string): Promise<AlertEvent | undefined> => (await query<AlertEvent>(OPEN_FOR, [alertId])).rows[0];

  const oneByOne = async (items: CommitItem[]): Promise<Settled<unknown[]>[]> => {
    const outcomes: Settled<unknown[]>[] = [];
    // Chunks in item order keep each rule's calls in order.
    for (let from = 0; from < items.length; from += MAX_SAVEPOINTS) {
      const chunk = items.slice(from, from + MAX_SAVEPOINTS);
      outcomes.push(...(await pipelinedTransaction((client) => writeEachAlone(client, chunk, customPlanned))));
    }
    return outcomes;
  };
  const group = groupCommit<CommitItem, unknown[]>({
    async runGroup(items) {
      try {
        return await pipelinedTransaction((client) => writeAllTogether(client, items, customPlanned));
      } catch (error) {
        if (!(error instanceof SetAttemptFailed)) throw error;
        return oneByOne(items);
      }
    },
    maxGroupSize: MAX_GROUP_SIZE,
  });
  const single = async (call: AlertCall): Promise<unknown> => (await group.submit({ calls: [call], readings: [] }))[0];

  return {
    async commit(batch) {
      const item = await commitItem(openFor, batch);
      const values = await group.submit(item);
      return item.calls.map((call, i) => toOutcome(call, values[i]));
    },
    async open(input, notifications) {
      const event = newAlertEvent(input);
      const call: AlertCall = { kind: 'open', event, notifications: newNotificationRows(notifications, event.alert_id) };
      return (await single(call)) as { event: AlertEvent; created: boolean };
    },
    async resolve(alertId, resolution, notifications) {
      const call: AlertCall = {
        kind: 'resolve',
        alertId,
        resolvedAt: isoTime(resolution.resolved_at, 'resolved_at'),
        value: resolution.resolution_value,
        notifications: newNotificationRows(notifications, alertId),
      };
      return (await single(call)) as AlertEvent | undefined;
    },
    openFor,
    async list(filter) {
      const { sql, params } = listQuery(filter);
      return (await query<AlertEvent>(sql, params)).rows;
    },
    async stats() {
      const { rows } = await query<{ total: number; open: number; resolved: number; mttr: number | null }>(STATS);
      const bySeverity = await query<{ severity: string; n: number }>('SELECT severity, count(*) AS n FROM alert_events GROUP BY severity');
      return {
        total: rows[0].total,
        open: rows[0].open,
        resolved: rows[0].resolved,
        by_severity: Object.fromEntries(bySeverity.rows.map(({ severity, n }) => [severity, n])),
        mean_time_to_resolve_seconds: rows[0].mttr,
      };
    },
    async deleteResolvedBefore(cutoff) {
      const { rowCount } = await query('DELETE FROM alert_events WHERE is_resolved AND resolved_at < $1', [isoTime(cutoff, 'cutoff')]);
      return rowCount ?? 0;
    },
  };
}
