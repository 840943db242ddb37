import type { AlertEvent } from '../../domain/alert-event.ts';
import type { AlertEventRepository, AlertTransition, ReadingRepository, TransitionOutcome } from '../store.ts';

type Batch = Parameters<AlertEventRepository['commit']>[0];

/**
 * `alerts.commit` on PostgreSQL: the transitions go through the alerts' group commit (submitted
 * together, so they share a group and keep their order), then the readings are upserted: two
 * transactions in that order, so a reading is never stored without the events it caused. Not yet
 * one transaction: after a crash between the two, a resent request holding several readings of one
 * series evaluates them against the state after its last committed transition (SQLite commits both
 * in one transaction and has no such window).
 */
export async function commitInOrder(alerts: Pick<AlertEventRepository, 'open' | 'resolve' | 'openFor'>, readings: ReadingRepository, batch: Batch): Promise<TransitionOutcome[]> {
  const known = new Map<string, AlertEvent | undefined>();
  const resolving = [...new Set(batch.transitions.filter((t) => t.kind === 'resolve').map((t) => (t as Extract<AlertTransition, { kind: 'resolve' }>).alertId))];
  const opened = await Promise.all(resolving.map((id) => alerts.openFor(id)));
  resolving.forEach((id, i) => known.set(id, opened[i]));
  // Submitted in one go, so they share a group; a resolve after an open of the same rule in this batch names the opened event.
  const calls = batch.transitions.map((t): Promise<TransitionOutcome> => {
    if (t.kind === 'open') {
      if (t.event.id !== undefined) known.set(t.event.alert_id, { ...t.event, id: t.event.id, is_resolved: false, resolved_at: null, resolution_value: null });
      return alerts.open(t.event, t.notifications).then(({ event, created }) => ({ changed: created, event }));
    }
    const open = known.get(t.alertId);
    known.delete(t.alertId);
    const notifications = open ? t.notifications({ ...open, ...t.resolution, is_resolved: true }) : [];
    return alerts.resolve(t.alertId, t.resolution, notifications).then((event) => ({ changed: event !== undefined, event }));
  });
  const outcomes = await Promise.all(calls);
  await readings.upsertLatest(batch.readings);
  return outcomes;
}
