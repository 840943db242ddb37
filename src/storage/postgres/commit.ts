import type { PoolClient, QueryConfig } from 'pg';
import type { AlertEvent } from '../../domain/alert-event.ts';
import type { Reading } from '../../domain/reading.ts';
import type { Settled } from '../group-commit.ts';
import { newAlertEvent, newNotificationRows } from '../rows.ts';
import type { AlertEventRepository, AlertTransition, TransitionOutcome } from '../store.ts';
import { newestPerSeries } from '../newest-readings.ts';
import { isoTime } from '../timestamps.ts';
import { type AlertCall, allOrFail, SetAttemptFailed, writeTogether } from './alert-calls.ts';
import { readingParams, UPSERT_READINGS } from './readings.ts';

type Batch = Parameters<AlertEventRepository['commit']>[0];
type Plan = (text: string, values: unknown[]) => QueryConfig;

/**
 * One unit of the alerts' group commit: transitions and the readings that caused them, all or
 * nothing. Its readings' timestamps are checked when it is made (`commitItem`).
 */
export interface CommitItem {
  calls: AlertCall[];
  readings: Reading[];
}

/** What `writeTogether` returned for an open or a resolve, as the port's outcome. */
export function toOutcome(call: AlertCall, value: unknown): TransitionOutcome {
  if (call.kind === 'open') {
    const { event, created } = value as { event: AlertEvent; created: boolean };
    return { changed: created, event };
  }
  const event = value as AlertEvent | undefined;
  return { changed: event !== undefined, event };
}

/**
 * The item `batch` becomes. A resolve's notifications are made from the rule's open event as read
 * beforehand (`openFor`), or from an open earlier in the batch that names its event id. Throws
 * StoreError on a malformed timestamp, before anything is written.
 */
export async function commitItem(openFor: (alertId: string) => Promise<AlertEvent | undefined>, batch: Batch): Promise<CommitItem> {
  // Checked now, and only the newest per series kept: the group's readings are collapsed again together.
  const readings = newestPerSeries(batch.readings);
  const known = new Map<string, AlertEvent | undefined>();
  const resolving = [...new Set(batch.transitions.filter((t) => t.kind === 'resolve').map((t) => (t as Extract<AlertTransition, { kind: 'resolve' }>).alertId))];
  const opened = await Promise.all(resolving.map((id) => openFor(id)));
  resolving.forEach((id, i) => known.set(id, opened[i]));
  const calls = batch.transitions.map((t): AlertCall => {
    if (t.kind === 'open') {
      const event = newAlertEvent(t.event);
      if (t.event.id !== undefined) known.set(event.alert_id, event);
      return { kind: 'open', event, notifications: newNotificationRows(t.notifications, event.alert_id) };
    }
    const open = known.get(t.alertId);
    known.delete(t.alertId);
    const notifications = open ? t.notifications({ ...open, ...t.resolution, is_resolved: true }) : [];
    const resolvedAt = isoTime(t.resolution.resolved_at, 'resolved_at');
    return { kind: 'resolve', alertId: t.alertId, resolvedAt, value: t.resolution.resolution_value, notifications: newNotificationRows(notifications, t.alertId) };
  });
  return { calls, readings };
}

/** Upserts `readings` within the transaction on `client`; rejects with SetAttemptFailed when the statement fails. */
async function writeReadings(client: PoolClient, readings: Reading[], plan: Plan): Promise<void> {
  if (readings.length > 0) await allOrFail(client, [plan(UPSERT_READINGS, readingParams(readings))]);
}

/**
 * Writes every item of a group inside the transaction on `client`, set-based: the transitions of all
 * items with a few statements per wave (`writeTogether`), then all their readings in one statement.
 * Rejects with SetAttemptFailed when a statement fails or a transition cannot be applied, so that
 * the caller goes item by item instead (`writeEachAlone`) and only the failing item fails.
 */
export async function writeAllTogether(client: PoolClient, items: CommitItem[], plan: Plan): Promise<Settled<unknown[]>[]> {
  const outcomes = await writeTogether(client, items.flatMap((item) => item.calls), plan);
  const failed = outcomes.find((outcome) => !outcome.ok);
  if (failed !== undefined && !failed.ok) throw new SetAttemptFailed(failed.error);
  await writeReadings(client, items.flatMap((item) => item.readings), plan);
  let from = 0;
  return items.map((item) => {
    const values = outcomes.slice(from, (from += item.calls.length)).map((outcome) => (outcome.ok ? outcome.value : undefined));
    return { ok: true, value: values };
  });
}

const SAVEPOINT = 'SAVEPOINT vigil_item';
const RELEASE = 'RELEASE SAVEPOINT vigil_item';
const ROLLBACK_TO = 'ROLLBACK TO SAVEPOINT vigil_item';

/**
 * Writes `items` inside the transaction on `client`, each behind a savepoint of its own: an item whose
 * statement fails, or whose transition cannot be applied, is rolled back alone (its transitions and
 * its readings) and fails with that error; the others stand. Rejects when a savepoint itself fails.
 */
export async function writeEachAlone(client: PoolClient, items: CommitItem[], plan: Plan): Promise<Settled<unknown[]>[]> {
  const outcomes: Settled<unknown[]>[] = [];
  for (const item of items) {
    await client.query(SAVEPOINT);
    try {
      const [settled] = await writeAllTogether(client, [item], plan);
      await client.query(RELEASE);
      outcomes.push(settled);
    } catch (error) {
      await client.query(ROLLBACK_TO);
      outcomes.push({ ok: false, error: error instanceof SetAttemptFailed ? error.cause : error });
    }
  }
  return outcomes;
}
