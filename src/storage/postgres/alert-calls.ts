import type { PoolClient, QueryConfig, QueryResult } from 'pg';
import type { AlertEvent } from '../../domain/alert-event.ts';
import type { Notification } from '../../domain/notification.ts';
import { StoreError } from '../../errors.ts';
import type { Settled } from '../group-commit.ts';
import { waves } from '../waves.ts';
import { insertNotificationsFrom, ownedNotificationParams } from './notifications.ts';

/** An alert transition as data, so that a group can write many of them with a few statements. */
export type AlertCall =
  | { kind: 'open'; event: AlertEvent; notifications: Notification[] }
  | { kind: 'resolve'; alertId: string; resolvedAt: string; value: number; notifications: Notification[] };

/** The set-based attempt of a group failed (a statement did): nothing of it stands, and the calls can go one by one. */
export class SetAttemptFailed extends Error {
  constructor(cause: unknown) {
    super('alerts: set-based group write failed', { cause });
  }
}

/** The prepared-statement maker of the connection (`PostgresConnection.prepared`). */
type Prepare = (sql: string, values: unknown[]) => QueryConfig;

/** The columns of an event as the port returns it. */
export const ALERT_COLUMNS = `id, alert_id, device_id, metric, operator, severity, threshold_value, current_value, triggered_at,
  is_resolved, resolved_at, resolution_value, metadata`;
const qualified = (alias: string) => ALERT_COLUMNS.split(',').map((column) => `${alias}.${column.trim()}`).join(', ');

/** The open event of one rule. */
export const OPEN_FOR = `SELECT ${ALERT_COLUMNS} FROM alert_events WHERE alert_id = $1 AND NOT is_resolved`;

// Every open of a wave (distinct rules) in one statement, rows in rule order so that instances lock
// index entries in one order. It returns the rules NOT opened, each with the open event its snapshot
// sees (none when another instance committed it while this insert waited on it).
const OPEN_ALL = `WITH ev AS (
    INSERT INTO alert_events (id, alert_id, device_id, metric, operator, severity, threshold_value, current_value,
      triggered_at, metadata)
    SELECT e.id, e.alert_id, e.device_id, e.metric, e.operator, e.severity, e.threshold_value, e.current_value,
      e.triggered_at, e.metadata::jsonb
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::float8[], $8::float8[],
      $9::timestamptz[], $10::text[])
      WITH ORDINALITY AS e(id, alert_id, device_id, metric, operator, severity, threshold_value, current_value,
        triggered_at, metadata, ord)
    ORDER BY e.ord
    ON CONFLICT (alert_id) WHERE NOT is_resolved DO NOTHING
    RETURNING alert_id
  ), outbox AS (${insertNotificationsFrom(11, { ownerIn: 'ev' })})
  SELECT k.rule, ${qualified('cur')}
  FROM unnest($2::text[]) AS k(rule)
    LEFT JOIN alert_events cur ON cur.alert_id = k.rule AND NOT cur.is_resolved AND cur.alert_id = ANY($2::text[])
  WHERE k.rule NOT IN (SELECT alert_id FROM ev)`;
// Every resolve of a wave (distinct rules) in one statement; rules with no open event return no row.
// `alert_id = ANY(…)` (here and in OPEN_ALL) lets the planner look the rules up in
// alert_events_one_open, rather than join against every open event (the unnest's row count is unknown to it).
const RESOLVE_ALL = `WITH ev AS (
    UPDATE alert_events a SET is_resolved = TRUE, resolved_at = r.resolved_at, resolution_value = r.resolution_value
    FROM unnest($1::text[], $2::timestamptz[], $3::float8[]) AS r(alert_id, resolved_at, resolution_value)
    WHERE a.alert_id = r.alert_id AND NOT a.is_resolved AND a.alert_id = ANY($1::text[])
    RETURNING ${qualified('a')}
  ), outbox AS (${insertNotificationsFrom(4, { ownerIn: 'ev' })})
  SELECT ${ALERT_COLUMNS} FROM ev`;
const OPEN_FOR_ALL = `SELECT ${ALERT_COLUMNS} FROM alert_events WHERE alert_id = ANY($1::text[]) AND NOT is_resolved`;

/** The rule a call is about. */
export const ruleOf = (call: AlertCall): string => (call.kind === 'open' ? call.event.alert_id : call.alertId);

const keptChanging = (rule: string) =>
  new StoreError(`alerts.open: rule '${rule}' kept changing`, { code: 'STORE_FAILED', retriable: true });

/** The parameters of OPEN_ALL for `opens`. */
function openAllParams(opens: Extract<AlertCall, { kind: 'open' }>[]): unknown[] {
  const events = opens.map((call) => call.event);
  const column = <K extends keyof AlertEvent>(key: K) => events.map((event) => event[key]);
  return [
    column('id'),
    column('alert_id'),
    column('device_id'),
    column('metric'),
    column('operator'),
    column('severity'),
    column('threshold_value'),
    column('current_value'),
    column('triggered_at'),
    events.map((event) => JSON.stringify(event.metadata)),
    ...ownedNotificationParams(opens.map((call) => ({ owner: call.event.alert_id, rows: call.notifications }))),
  ];
}

/** The parameters of RESOLVE_ALL for `resolves`. */
function resolveAllParams(resolves: Extract<AlertCall, { kind: 'resolve' }>[]): unknown[] {
  return [
    resolves.map((call) => call.alertId),
    resolves.map((call) => call.resolvedAt),
    resolves.map((call) => call.value),
    ...ownedNotificationParams(resolves.map((call) => ({ owner: call.alertId, rows: call.notifications }))),
  ];
}

/** Sends `queries` back to back (pipelined) and waits for all: on a failure, the later ones fail too and must be awaited. */
export async function allOrFail(client: PoolClient, queries: (QueryConfig | undefined)[]): Promise<(QueryResult | undefined)[]> {
  const settled = await Promise.allSettled(queries.map((query) => (query === undefined ? undefined : client.query(query))));
  const failed = settled.find((outcome) => outcome.status === 'rejected');
  if (failed) throw new SetAttemptFailed(failed.reason);
  return settled.map((outcome) => (outcome as PromiseFulfilledResult<QueryResult | undefined>).value);
}

/**
 * Writes `calls` inside the transaction open on `client` with a few statements per wave (at most one
 * call per rule in each; see `waves`): one for the wave's opens and their notifications, one for its
 * resolves and theirs. Rejects with `SetAttemptFailed` when a statement fails: the transaction is then
 * lost as a whole, and the caller writes the calls one by one instead (each failing alone).
 */
export async function writeTogether(client: PoolClient, calls: AlertCall[], prepare: Prepare): Promise<Settled<unknown>[]> {
  const outcomes: Settled<unknown>[] = new Array(calls.length);
  for (const wave of waves(calls.map(ruleOf))) {
    const inRuleOrder = wave.sort((a, b) => (ruleOf(calls[a]) < ruleOf(calls[b]) ? -1 : 1));
    const opens = inRuleOrder.filter((i) => calls[i].kind === 'open');
    const resolves = inRuleOrder.filter((i) => calls[i].kind === 'resolve');
    const openCalls = opens.map((i) => calls[i] as Extract<AlertCall, { kind: 'open' }>);
    const resolveCalls = resolves.map((i) => calls[i] as Extract<AlertCall, { kind: 'resolve' }>);
    const [opened, resolved] = await allOrFail(client, [
      openCalls.length > 0 ? prepare(OPEN_ALL, openAllParams(openCalls)) : undefined,
      resolveCalls.length > 0 ? prepare(RESOLVE_ALL, resolveAllParams(resolveCalls)) : undefined,
    ]);

    const notOpened = new Map((opened?.rows ?? []).map((row: { rule: string } & Partial<AlertEvent>) => [row.rule, row]));
    // A rule's event another instance committed while OPEN_ALL waited: a statement of its own sees it.
    const unseen = [...notOpened.values()].filter((row) => row.id === null).map((row) => row.rule);
    if (unseen.length > 0) {
      const [current] = await allOrFail(client, [prepare(OPEN_FOR_ALL, [unseen])]);
      for (const row of current!.rows as AlertEvent[]) notOpened.set(row.alert_id, { rule: row.alert_id, ...row });
    }
    opens.forEach((index, j) => {
      const { event } = openCalls[j];
      const row = notOpened.get(event.alert_id);
      if (row === undefined) outcomes[index] = { ok: true, value: { event, created: true } };
      else if (row.id === null) outcomes[index] = { ok: false, error: keptChanging(event.alert_id) };
      else {
        const { rule: _rule, ...existing } = row;
        outcomes[index] = { ok: true, value: { event: existing as AlertEvent, created: false } };
      }
    });

    const closed = new Map((resolved?.rows ?? []).map((row: AlertEvent) => [row.alert_id, row]));
    resolves.forEach((index, j) => {
      outcomes[index] = { ok: true, value: closed.get(resolveCalls[j].alertId) };
    });
  }
  return outcomes;
}
