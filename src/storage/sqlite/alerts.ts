import { randomUUID } from 'node:crypto';
import type { AlertEvent, AlertEventFilter, NewAlertEvent, Resolution } from '../../domain/alert-event.ts';
import type { NewNotification } from '../../domain/notification.ts';
import { groupCommit, type Settled } from '../group-commit.ts';
import type { AlertEventRepository } from '../store.ts';
import { isoTime } from '../timestamps.ts';
import type { SqliteConnection } from './connection.ts';
import { closedError, guarded, toStoreError } from './guard.ts';
import { insertNotifications } from './notifications.ts';

type AlertEventRow = Omit<AlertEvent, 'is_resolved' | 'metadata'> & { is_resolved: number; metadata: string };

const COLUMNS = `id, alert_id, device_id, metric, operator, severity, threshold_value, current_value, triggered_at,
  is_resolved, resolved_at, resolution_value, metadata`;
const INSERT = `INSERT INTO alert_events (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, NULL, NULL, ?)`;
const OPEN_FOR = `SELECT ${COLUMNS} FROM alert_events WHERE alert_id = ? AND is_resolved = 0`;
const RESOLVE = `UPDATE alert_events SET is_resolved = 1, resolved_at = ?, resolution_value = ? WHERE id = ?`;
const STATS = `SELECT count(*) AS total, coalesce(sum(is_resolved = 0), 0) AS open,
  coalesce(sum(is_resolved), 0) AS resolved,
  avg(CASE WHEN is_resolved = 1 THEN unixepoch(resolved_at, 'subsec') - unixepoch(triggered_at, 'subsec') END) AS mttr
  FROM alert_events`;

const fromRow = (row: AlertEventRow): AlertEvent => ({
  ...row,
  is_resolved: row.is_resolved === 1,
  metadata: JSON.parse(row.metadata) as Record<string, unknown>,
});

/** The SQL and parameters of a list filter; filters take few shapes, so each SQL text is prepared once. */
function listQuery(filter: AlertEventFilter): { sql: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (clause: string, value: unknown) => {
    where.push(clause);
    params.push(value);
  };
  if (filter.alert_id !== undefined) add('alert_id = ?', filter.alert_id);
  if (filter.device_id !== undefined) add('device_id = ?', filter.device_id);
  if (filter.is_resolved !== undefined) add('is_resolved = ?', filter.is_resolved ? 1 : 0);
  if (filter.since !== undefined) add('triggered_at >= ?', isoTime(filter.since, 'since'));
  if (filter.until !== undefined) add('triggered_at <= ?', isoTime(filter.until, 'until'));
  params.push(filter.limit ?? -1);
  const sql = `SELECT ${COLUMNS} FROM alert_events ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY triggered_at DESC, rowid DESC LIMIT ?`;
  return { sql, params };
}

/** Most transitions committed together. */
const MAX_GROUP_SIZE = 256;

/**
 * Runs a group of calls in one `BEGIN IMMEDIATE` transaction, each in a savepoint of its own (a
 * better-sqlite3 transaction called inside another is a SAVEPOINT), so a failing call undoes only its writes.
 */
function groupRunner(db: SqliteConnection['db']): (calls: (() => unknown)[]) => Settled<unknown>[] {
  const inSavepoint = db.transaction((call: () => unknown) => call());
  const group = db.transaction((calls: (() => unknown)[]) =>
    calls.map((call): Settled<unknown> => {
      try {
        return { ok: true, value: inSavepoint(call) };
      } catch (error) {
        // Some errors (SQLITE_FULL, SQLITE_IOERR…) make SQLite roll back the whole transaction: then no
        // call of the group stands, and going on would write the next calls outside any transaction.
        if (!db.inTransaction) throw error;
        return { ok: false, error };
      }
    }),
  );
  return (calls) => {
    if (!db.open) throw closedError('alerts');
    return group.immediate(calls);
  };
}

/**
 * Alert events in SQLite. Opening and resolving each write their outbox rows in the same transaction;
 * transitions requested together (in one tick) share that transaction: group commit, one savepoint each.
 */
export function sqliteAlerts({ db, statement }: SqliteConnection): AlertEventRepository {
  const openFor = (alertId: string): AlertEvent | undefined => {
    const row = statement(OPEN_FOR).get(alertId) as AlertEventRow | undefined;
    return row && fromRow(row);
  };

  const open = (input: NewAlertEvent, notifications: NewNotification[]) => {
    const existing = openFor(input.alert_id);
    if (existing) return { event: existing, created: false };
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
    statement(INSERT).run(
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
    );
    insertNotifications(statement, notifications, event.alert_id);
    return { event, created: true };
  };

  const resolve = (alertId: string, resolution: Resolution, notifications: NewNotification[]) => {
    const current = openFor(alertId);
    if (!current) return undefined;
    const resolved: AlertEvent = {
      ...current,
      is_resolved: true,
      resolved_at: isoTime(resolution.resolved_at, 'resolved_at'),
      resolution_value: resolution.resolution_value,
    };
    statement(RESOLVE).run(resolved.resolved_at, resolved.resolution_value, resolved.id);
    insertNotifications(statement, notifications, alertId);
    return resolved;
  };

  const runGroup = groupRunner(db);
  const transitions = groupCommit<() => unknown, unknown>({ runGroup: async (calls) => runGroup(calls), maxGroupSize: MAX_GROUP_SIZE });
  const submit = async <T>(operation: string, call: () => T): Promise<T> => {
    if (!db.open) throw closedError(operation);
    try {
      return (await transitions.submit(call)) as T;
    } catch (error) {
      throw toStoreError(error, operation);
    }
  };

  const reads = guarded<Omit<AlertEventRepository, 'open' | 'resolve'>>(db, 'alerts', {
    openFor,
    list(filter) {
      const { sql, params } = listQuery(filter);
      return (statement(sql).all(...params) as AlertEventRow[]).map(fromRow);
    },
    stats() {
      const totals = statement(STATS).get() as { total: number; open: number; resolved: number; mttr: number | null };
      const bySeverity = statement('SELECT severity, count(*) AS n FROM alert_events GROUP BY severity').all() as {
        severity: string;
        n: number;
      }[];
      return {
        total: totals.total,
        open: totals.open,
        resolved: totals.resolved,
        by_severity: Object.fromEntries(bySeverity.map(({ severity, n }) => [severity, n])),
        mean_time_to_resolve_seconds: totals.mttr,
      };
    },
    deleteResolvedBefore(cutoff) {
      return statement('DELETE FROM alert_events WHERE is_resolved = 1 AND resolved_at < ?').run(isoTime(cutoff, 'cutoff'))
        .changes;
    },
  });
  return {
    ...reads,
    open: (event, notifications) => submit('alerts.open', () => open(event, notifications)),
    resolve: (alertId, resolution, notifications) => submit('alerts.resolve', () => resolve(alertId, resolution, notifications)),
  };
}
