import type { AlertEvent, AlertEventFilter, NewAlertEvent, Resolution } from '../../domain/alert-event.ts';
import type { NewNotification } from '../../domain/notification.ts';
import { groupCommit, type Settled } from '../group-commit.ts';
import { newAlertEvent, newEventValues } from '../rows.ts';
import type { AlertEventRepository, AlertTransition, TransitionOutcome } from '../store.ts';
import type { Reading } from '../../domain/reading.ts';
import { upsertReadings } from './readings.ts';
import { isoTime, now } from '../timestamps.ts';
import type { SqliteConnection } from './connection.ts';
import { closedError, guarded, toStoreError } from './guard.ts';
import { INSERT_NOTIFICATION, insertClaimedOutbox, insertOutbox, type BornRows } from './notifications.ts';

type AlertEventRow = Omit<AlertEvent, 'is_resolved' | 'metadata'> & { is_resolved: number; metadata: string };

const COLUMNS = `id, alert_id, device_id, metric, operator, severity, threshold_value, current_value, triggered_at,
  is_resolved, resolved_at, resolution_value, metadata`;
// The partial unique index makes opening a rule that is open a no-op, found without a read first.
const INSERT = `INSERT INTO alert_events (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, NULL, NULL, ?)
  ON CONFLICT (alert_id) WHERE is_resolved = 0 DO NOTHING`;
const OPEN_FOR = `SELECT ${COLUMNS} FROM alert_events WHERE alert_id = ? AND is_resolved = 0`;
const RESOLVE = `UPDATE alert_events SET is_resolved = 1, resolved_at = ?, resolution_value = ? WHERE alert_id = ? AND is_resolved = 0
  RETURNING ${COLUMNS}`;
// The (device, rule) pairs no event has any more, after retention deleted events.
const PRUNE_DEVICES = `DELETE FROM alert_event_devices WHERE NOT EXISTS (
  SELECT 1 FROM alert_events AS e WHERE e.alert_id = alert_event_devices.alert_id AND e.device_id = alert_event_devices.device_id)`;
const STATS = `SELECT count(*) AS total, coalesce(sum(is_resolved = 0), 0) AS open,
  coalesce(sum(is_resolved), 0) AS resolved,
  avg(CASE WHEN is_resolved = 1 THEN unixepoch(resolved_at, 'subsec') - unixepoch(triggered_at, 'subsec') END) AS mttr
  FROM alert_events`;

const fromRow = (row: AlertEventRow): AlertEvent => ({
  ...row,
  is_resolved: row.is_resolved === 1,
  metadata: JSON.parse(row.metadata) as Record<string, unknown>,
});

/**
 * The SQL and parameters of a list filter; filters take few shapes, so each SQL text is prepared once.
 * A device's events are found through its rules (alert_event_devices, migration 011) down
 * alert_events_alert: no index of their own, which every event would write at a scattered key.
 */
export function listQuery(filter: AlertEventFilter): { sql: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (clause: string, value: unknown) => {
    where.push(clause);
    params.push(value);
  };
  const byDevice = filter.device_id !== undefined && filter.alert_id === undefined;
  if (filter.alert_id !== undefined) add('alert_id = ?', filter.alert_id);
  if (byDevice) add('alert_id IN (SELECT alert_id FROM alert_event_devices WHERE device_id = ?)', filter.device_id);
  if (filter.device_id !== undefined) add('device_id = ?', filter.device_id);
  if (filter.is_resolved !== undefined) add('is_resolved = ?', filter.is_resolved ? 1 : 0);
  if (filter.since !== undefined) add('triggered_at >= ?', isoTime(filter.since, 'since'));
  if (filter.until !== undefined) add('triggered_at <= ?', isoTime(filter.until, 'until'));
  params.push(filter.limit ?? -1);
  const from = byDevice ? 'alert_events INDEXED BY alert_events_alert' : 'alert_events';
  const sql = `SELECT ${COLUMNS} FROM ${from} ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY triggered_at DESC, rowid DESC LIMIT ?`;
  return { sql, params };
}

/** An outcome's rows written claimed, when the caller delivers them. */
const bornOf = (born: BornRows | undefined): Pick<TransitionOutcome, 'claimed'> => (born === undefined ? {} : { claimed: born.claimed });

/** Most transitions committed together. */
const MAX_GROUP_SIZE = 256;

/** A call of the group threw: the transaction is rolled back, and the group runs again call by call. */
class CallFailed extends Error {}

/**
 * Runs a group of calls in one `BEGIN IMMEDIATE` transaction, one after another with no savepoints (a
 * few prepared statements each). When a call throws, that transaction is rolled back and the group
 * runs again with each call in a savepoint of its own (a better-sqlite3 transaction called inside
 * another is a SAVEPOINT), so a failing call undoes only its writes and the others commit.
 */
function groupRunner(db: SqliteConnection['db']): (calls: (() => unknown)[]) => Settled<unknown>[] {
  const together = db.transaction((calls: (() => unknown)[]) =>
    calls.map((call): Settled<unknown> => {
      try {
        return { ok: true, value: call() };
      } catch (error) {
        throw new CallFailed('alerts: a call of the group failed', { cause: error });
      }
    }),
  );
  const inSavepoint = db.transaction((call: () => unknown) => call());
  const oneByOne = db.transaction((calls: (() => unknown)[]) =>
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
    try {
      return together.immediate(calls);
    } catch (error) {
      // BEGIN or COMMIT failing (busy, disk full) is the group's failure, not one call's.
      if (!(error instanceof CallFailed)) throw error;
      return oneByOne.immediate(calls);
    }
  };
}

type AlertReads = Omit<AlertEventRepository, 'open' | 'resolve' | 'commit'>;

/** The alert events' reads (and retention's delete), each guarded against a closed or failing database. */
function alertReads({ db, statement }: Pick<SqliteConnection, 'db' | 'statement'>, openFor: (alertId: string) => AlertEvent | undefined): AlertReads {
  return guarded<AlertReads>(db, 'alerts', {
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
      const deleted = statement('DELETE FROM alert_events WHERE is_resolved = 1 AND resolved_at < ?').run(isoTime(cutoff, 'cutoff')).changes;
      if (deleted > 0) statement(PRUNE_DEVICES).run();
      return deleted;
    },
  });
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

  /** Opens the rule's event with its outbox rows (`createdAt`: their creation time) unless one is open. */
  const open = (input: NewAlertEvent, notifications: NewNotification[], createdAt = now(), born?: BornRows) => {
    const event = newAlertEvent(input);
    const { changes } = statement(INSERT).run(newEventValues(event));
    if (changes === 0) return { event: openFor(event.alert_id)!, created: false };
    outbox(notifications, event.alert_id, createdAt, born);
    return { event, created: true };
  };

  /** The outbox rows of a transition: pending, or born claimed into `born` when the caller delivers them. */
  const outbox = (notifications: NewNotification[], alertId: string, createdAt: string, born: BornRows | undefined) => {
    if (born) insertClaimedOutbox(statement, notifications, alertId, createdAt, born);
    else insertOutbox(statement(INSERT_NOTIFICATION), notifications, alertId, createdAt);
  };

  const resolve = (
    alertId: string,
    resolution: Resolution,
    notifications: NewNotification[] | ((event: AlertEvent) => NewNotification[]),
    createdAt = now(),
    born?: BornRows,
  ) => {
    const resolvedAt = isoTime(resolution.resolved_at, 'resolved_at');
    const row = statement(RESOLVE).get(resolvedAt, resolution.resolution_value, alertId) as AlertEventRow | undefined;
    if (!row) return undefined;
    const event = fromRow(row);
    const rows = typeof notifications === 'function' ? notifications(event) : notifications;
    outbox(rows, alertId, createdAt, born);
    return event;
  };

  /** One call of the group: the transitions, then the readings (all or nothing: a failing call is rolled back alone). */
  const commit = (transitions: AlertTransition[], readings: Reading[], claim: boolean): TransitionOutcome[] => {
    const createdAt = now();
    const outcomes = new Array<TransitionOutcome>(transitions.length);
    transitions.forEach((t, i) => {
      const born: BornRows | undefined = claim ? { claimed: [] } : undefined;
      if (t.kind === 'open') {
        const { event, created } = open(t.event, t.notifications, createdAt, born);
        outcomes[i] = { changed: created, event, ...bornOf(born) };
      } else {
        const event = resolve(t.alertId, t.resolution, t.notifications, createdAt, born);
        outcomes[i] = { changed: event !== undefined, event, ...bornOf(born) };
      }
    });
    upsertReadings(statement, readings);
    return outcomes;
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

  const reads = alertReads({ db, statement }, openFor);
  return {
    ...reads,
    open: (event, notifications) => submit('alerts.open', () => open(event, notifications)),
    resolve: (alertId, resolution, notifications) => submit('alerts.resolve', () => resolve(alertId, resolution, notifications)),
    commit: ({ transitions, readings, claim = false }) => submit('alerts.commit', () => commit(transitions, readings, claim)),
  };
}
