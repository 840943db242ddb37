import { configuredChannels } from '../../channels/open-channels.ts';
import { messageOf } from '../../errors.ts';
import type { Notification } from '../../domain/notification.ts';
import type { OutboxHandoff, RuntimeContext } from '../context.ts';
import type { Repeat } from '../dedup-memory.ts';
import type { Logger } from '../logger.ts';
import { createAlertWriter, type AlertWrite, type AlertWriter, type WriteOutcome } from './alert-writer.ts';
import { ALERT_WORKER_ID, type IntervalWorker } from './interval-worker.ts';

/** Options of `createEngineWrites`. */
export interface EngineWritesOptions {
  ctx: Pick<RuntimeContext, 'config' | 'store' | 'runs'>;
  logger: Logger;
  /** Where the written alerts are counted. */
  worker: Pick<IntervalWorker, 'send'>;
  /** Tells the notifier that outbox rows were committed (none: they wait for its next poll). */
  wake?: () => void;
  /** The notifier that delivers the outbox rows written already claimed for it, when it is taking them. */
  handoff?: OutboxHandoff;
  /** Record the writes instead of making them (`vigil worker --dry-run`). */
  dryRun?: boolean;
}

/**
 * The engine's alert writes: committed in order by the alert writer, each committed change logged,
 * counted into the worker's statistics and handed to the notifier at once; a failure is reported
 * to plugin health. A dry run records the writes instead (`recorded`).
 */
export function createEngineWrites(options: EngineWritesOptions): { writer: AlertWriter; recorded: AlertWrite[] } {
  const { ctx, logger, worker } = options;
  const recorded: AlertWrite[] = [];
  if (options.dryRun) {
    const writer: AlertWriter = {
      push: (w) => void recorded.push(w),
      commit: async (writes) => void recorded.push(...writes),
      drain: async () => {},
      queued: 0,
    };
    return { writer, recorded };
  }
  // Counted per write, told per commit: one worker event, one notifier wake and one failure report a batch.
  let counts = { triggered: 0, resolved: 0, errors: 0, lastError: null as string | null };
  /** The batch's outbox rows written claimed for the notifier, and whether any change wrote its rows pending. */
  let handed: Notification[] = [];
  let repeats: Repeat[] = [];
  let unclaimed = false;
  const onWritten = (outcome: WriteOutcome) => {
    const fired = outcome.write.kind === 'fire';
    if (!outcome.ok) {
      counts.errors++;
      counts.lastError = messageOf(outcome.error);
    } else if (outcome.changed) {
      logger.info({ rule: outcome.write.rule.id, event: outcome.eventId, value: outcome.write.value }, fired ? 'alert fired' : 'alert resolved');
      if (fired) counts.triggered++;
      else counts.resolved++;
      if (outcome.claimed) handed.push(...outcome.claimed);
      else unclaimed = true;
      if (outcome.repeats) repeats.push(...outcome.repeats);
    }
  };
  const onCommitted = () => {
    const told = counts;
    if (told.triggered + told.resolved + told.errors === 0) return;
    counts = { triggered: 0, resolved: 0, errors: 0, lastError: null };
    // The events' outbox rows are committed: those written claimed go to the notifier as they are, in
    // commit order; for the others it claims now rather than at its next poll.
    if (handed.length > 0) options.handoff?.take(handed);
    if (repeats.length > 0) options.handoff?.repeated(repeats);
    if (unclaimed) options.wake?.();
    handed = [];
    repeats = [];
    unclaimed = false;
    worker.send({ type: 'WRITTEN', ...told, lastError: told.lastError ?? undefined });
    if (told.errors > 0) ctx.runs.report(ALERT_WORKER_ID, { ok: false, error: told.lastError ?? undefined });
  };
  const { handoff } = options;
  const writer = createAlertWriter({
    store: ctx.store,
    logger,
    onWritten,
    onCommitted,
    channels: configuredChannels(ctx.config),
    claimOutbox: handoff && (() => handoff.taking()),
    ...(handoff && { repeatOf: handoff.repeatOf }),
  });
  return { writer, recorded };
}

/** Whether the writer drained within `ms` (false: the store still refused the queued writes). */
export async function drainedWithin(writer: AlertWriter, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([writer.drain().then(() => true as const), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
