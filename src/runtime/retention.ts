import { retentionDaysSchema } from '../domain/time-schema.ts';
import { ValidationError } from '../errors.ts';
import type { Store } from '../storage/store.ts';

/** Rows deleted by one retention run, per table. */
export interface CleanupResult {
  days: number;
  cutoff: string;
  deleted: { alert_events: number; readings: number; notifications: number; analytics_snapshots: number; messages: number; silences: number };
}

const DAY_MS = 86_400_000;

/**
 * Deletes what is older than `days`: resolved alert events, readings, sent and suppressed
 * notifications, analytics snapshots, received messages and silences that ended. Open (firing)
 * events and pending, sending or failed notifications stay. `days` outside (0, MAX_RETENTION_DAYS] is a ValidationError naming `days`.
 */
export async function cleanup(store: Store, days: number, now: number = Date.now()): Promise<CleanupResult> {
  const checked = retentionDaysSchema.safeParse(days);
  if (!checked.success) throw new ValidationError([{ path: 'days', message: checked.error.issues[0]!.message }]);
  const cutoff = new Date(now - days * DAY_MS).toISOString();
  const alert_events = await store.alerts.deleteResolvedBefore(cutoff);
  const readings = await store.readings.deleteOlderThan(cutoff);
  const sent = await store.notifications.deleteSentBefore(cutoff);
  const silenced = await store.silences.deleteBefore(cutoff);
  const notifications = sent + silenced.suppressed;
  const analytics_snapshots = await store.analytics.deleteBefore(cutoff);
  const messages = await store.messages.deleteReceivedBefore(cutoff);
  return { days, cutoff, deleted: { alert_events, readings, notifications, analytics_snapshots, messages, silences: silenced.silences } };
}
