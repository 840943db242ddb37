import { randomUUID } from 'node:crypto';
import type { AlertEvent, AlertEventFilter } from '../../domain/alert-event.ts';
import { StoreError } from '../../errors.ts';
import { groupCommit } from '../group-commit.ts';
import type { AlertEventRepository } from '../store.ts';
import { isoTime } from '../timestamps.ts';
import type { PostgresConnection } from './connection.ts';
import { type GroupCall, runGroupCalls } from './group.ts';
import { insertNotificationsFrom, newNotificationRows, notificationParams } from './notifications.ts';

const COLUMNS = `id, alert_id, device_id, metric, operator, severity, threshold_value, current_value, triggered_at,
  is_resolved, resolved_at, resolution_value, metadata`;

// Each transition is ONE statement (data-modifying CTEs): the notifications go in only when the
// event row was written, and a failure undoes both.
// The partial unique index makes a second open of the same rule a no-op (ON CONFLICT DO NOTHING).
const OPEN = `WITH ev AS (
    INSERT INTO alert_events (id, alert_id, device_id, metric, operator, severity, threshold_value, current_value,
      triggered_at, metadata)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb)
    ON CONFLICT (alert_id) WHERE NOT is_resolved DO NOTHING
    RETURNING id
  ), outbox AS (${insertNotificationsFrom(11, 'ev')})
  SELECT count(*) AS created FROM ev`;
// Row locks serialize two resolvers of one rule: the second finds the event resolved and does nothing.
const RESOLVE = `WITH ev AS (
    UPDATE alert_events SET is_resolved = TRUE, resolved_at = $2, resolution_value = $3
    WHERE alert_id = $1 AND NOT is_resolved
    RETURNING ${COLUMNS}
  ), outbox AS (${insertNotificationsFrom(4, 'ev')})
  SELECT ${COLUMNS} FROM ev`;
// Each call's savepoint is a subtransaction; past 64 in one transaction, PostgreSQL's per-backend
// cache of subtransaction ids overflows and every other session's visibility checks slow down.
const MAX_GROUP_SIZE = 64;
const OPEN_FOR = `SELECT ${COLUMNS} FROM alert_events WHERE alert_id = $1 AND NOT is_resolved`;
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
 * Alert events in PostgreSQL. Opening and resolving each write their outbox rows in the same statement;
 * transitions requested while a group is committing form the next group: one transaction, one
 * savepoint per call (group commit), pipelined on a connection of their own.
 */
export function postgresAlerts({ query, prepared, pipelinedTransaction }: PostgresConnection): AlertEventRepository {
  const openFor = async (alertId: string): Promise<AlertEvent | undefined> => (await query<AlertEvent>(OPEN_FOR, [alertId])).rows[0];
  const transitions = groupCommit<GroupCall, unknown>({
    runGroup: (calls) => pipelinedTransaction((client) => runGroupCalls(client, calls)),
    maxGroupSize: MAX_GROUP_SIZE,
  });

  return {
    async open(input, notifications) {
      const event: AlertEvent = {
        id: input.id ?? randomUUID(),
        alert_id: input.alert_id,
        device_id: input.device_id,
        metric: input.metric,
        operator: input.operator,
        severity: input.severity,
        threshold_value: input.threshold_value,
        current_value: input.current_value,
        triggered_at: isoTime(input.triggered_at, 'triggered_at'),
        is_resolved: false,
        resolved_at: null,
        resolution_value: null,
        metadata: input.metadata ?? {},
      };
      const outbox = notificationParams(newNotificationRows(notifications, event.alert_id));
      const values = [
        event.id,
        event.alert_id,
        event.device_id,
        event.metric,
        event.operator,
        event.severity,
        event.threshold_value,
        event.current_value,
        event.triggered_at,
        JSON.stringify(event.metadata),
        ...outbox,
      ];
      const call: GroupCall<{ event: AlertEvent; created: boolean }> = {
        key: event.alert_id,
        // OPEN_FOR, a statement of its own, sees an open event that another instance committed while
        // OPEN waited on it (invisible to OPEN's snapshot).
        statements: [prepared(OPEN, values), prepared(OPEN_FOR, [event.alert_id])],
        result([opened, current]) {
          if ((opened.rows[0] as { created: number }).created > 0) return { event, created: true };
          const existing = current.rows[0] as AlertEvent | undefined;
          if (existing) return { event: existing, created: false };
          // Opened and resolved elsewhere between the two statements: this call wrote nothing.
          throw new StoreError(`alerts.open: rule '${event.alert_id}' kept changing`, { code: 'STORE_FAILED', retriable: true });
        },
      };
      return (await transitions.submit(call)) as { event: AlertEvent; created: boolean };
    },
    async resolve(alertId, resolution, notifications) {
      const resolvedAt = isoTime(resolution.resolved_at, 'resolved_at');
      const outbox = notificationParams(newNotificationRows(notifications, alertId));
      const call: GroupCall<AlertEvent | undefined> = {
        key: alertId,
        statements: [prepared(RESOLVE, [alertId, resolvedAt, resolution.resolution_value, ...outbox])],
        result: ([resolved]) => resolved.rows[0] as AlertEvent | undefined,
      };
      return (await transitions.submit(call)) as AlertEvent | undefined;
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
