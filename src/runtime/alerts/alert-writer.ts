import type { Notification } from '../../domain/notification.ts';
import type { Reading } from '../../domain/reading.ts';
import type { Store, TransitionOutcome } from '../../storage/store.ts';
import { withBackoff, type BackoffOptions } from '../../streams/backoff.ts';
import type { Logger } from '../logger.ts';
import type { Repeat, RepeatOf } from '../dedup-memory.ts';
import type { AvailableChannels } from './notifications.ts';
import { transitionOf, type AlertWrite } from './write-transition.ts';

export type { AlertWrite } from './write-transition.ts';

/** What a write did: `changed` false when the store already had it so (idempotent). */
export type WriteOutcome =
  | { write: AlertWrite; ok: true; changed: boolean; eventId?: string; claimed?: Notification[]; repeats?: Repeat[] }
  | { write: AlertWrite; ok: false; error: unknown };

/** Options of `createAlertWriter`. */
export interface AlertWriterOptions {
  store: Pick<Store, 'alerts'>;
  logger: Logger;
  /** Called once per write when it is committed (or given up), in push order. */
  onWritten?: (outcome: WriteOutcome) => void;
  /** Called once after each commit of a batch, once its writes were told to `onWritten`: per-commit effects go here. */
  onCommitted?: () => void;
  /** The waits between retries of a retriable store failure (default: the one backoff's; retried until it succeeds). */
  backoff?: Partial<BackoffOptions>;
  /** The channels a rule without `channels` is routed among by severity (default: console). */
  channels?: AvailableChannels;
  /** Most units committed together (default 256, the store's group size). */
  maxBatch?: number;
  /**
   * Asked before each commit: true when whoever `onWritten` tells delivers the outbox rows itself, so
   * the store may write them already claimed (see `commit`'s `claim`) and return them in `claimed`.
   */
  claimOutbox?: () => boolean;
  /**
   * The send a write's notification on a channel would repeat, as its deliverer remembers it. No row
   * is written for such a notification (the send covers it; the alert event is its record), whether
   * or not the outbox is claimed; a write that changed something tells them to `onWritten` in `repeats`.
   */
  repeatOf?: RepeatOf;
}

/** The alert writes and the readings that caused them, committed in push order. */
export interface AlertWriter {
  /** Queues one write on its own (a timer's or an interval's transition); never blocks the machine. */
  push(write: AlertWrite): void;
  /**
   * Queues readings with the writes they caused, committed together after everything queued before.
   * Resolves once committed. Rejects at the first failure: the unit is still retried in the
   * background when the failure is retriable (so a resend finds its writes done, in order). With
   * `waitOutRetries`, settles only with the unit's outcome: committed, however many retries it
   * took, or given up (a failure that will not pass).
   */
  commit(writes: AlertWrite[], readings: Reading[], options?: { waitOutRetries?: boolean }): Promise<void>;
  /** Resolves once every unit queued so far is committed or given up. */
  drain(): Promise<void>;
  /** Writes queued and not yet done. */
  readonly queued: number;
}

interface Unit {
  writes: AlertWrite[];
  readings: Reading[];
  /** Settles the caller's promise with the unit's outcome (first call wins). */
  settle(error?: unknown): void;
  /** A failure the unit is retried after: settles the caller's promise with it, unless the caller waits out retries. */
  fail(error: unknown): void;
  /** Resolves when the unit is done, however it ended. */
  done: Promise<void>;
  finish(): void;
}

function newUnit(writes: AlertWrite[], readings: Reading[], onSettled: { resolve(): void; reject(error: unknown): void }, waitOutRetries: boolean): Unit {
  let settled = false;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const settle = (error?: unknown) => {
    if (settled) return;
    settled = true;
    if (error === undefined) onSettled.resolve();
    else onSettled.reject(error);
  };
  return {
    writes,
    readings,
    done,
    finish,
    settle,
    fail(error) {
      if (!waitOutRetries) settle(error);
    },
  };
}

/** The longest prefix of `queue` (at most `max`) in which no rule has writes in two units: those can commit concurrently. */
function nextBatch(queue: Unit[], max: number): Unit[] {
  const rules = new Set<string>();
  let n = 0;
  for (; n < queue.length && n < max; n++) {
    const ids = queue[n]!.writes.map((w) => w.rule.id);
    if (n > 0 && ids.some((id) => rules.has(id))) break;
    for (const id of ids) rules.add(id);
  }
  return queue.splice(0, Math.max(1, n));
}

/** A transition's outcome, with the repeats left out of its notifications when it changed something. */
type Written = TransitionOutcome & { repeats?: Repeat[] };

function withRepeats(outcomes: TransitionOutcome[], planned: { repeats: Repeat[] }[]): Written[] {
  return outcomes.map((outcome, i) => {
    const { repeats } = planned[i]!;
    return outcome.changed && repeats.length > 0 ? { ...outcome, repeats } : outcome;
  });
}

/** One attempt at committing `pending` (one group commit): each unit's outcomes, with the repeats left out of its writes. */
function commitTogether(options: AlertWriterOptions, pending: Unit[], claim: boolean): Promise<PromiseSettledResult<Written[]>[]> {
  const planned = pending.map((u) => u.writes.map((w) => transitionOf(w, options.channels, options.repeatOf)));
  return Promise.allSettled(
    pending.map((u, k) =>
      options.store.alerts.commit({ transitions: planned[k]!.map((p) => p.transition), readings: u.readings, claim }).then((outcomes) => withRepeats(outcomes, planned[k]!)),
    ),
  );
}

/** Tells `onWritten` each write's outcome, in push order (a failing listener is logged, not thrown). */
function reportUnit(unit: Unit, outcomes: Written[] | undefined, error: unknown, onWritten: AlertWriterOptions['onWritten'], logger: Logger): void {
  if (!onWritten) return;
  unit.writes.forEach((write, i) => {
    const outcome = outcomes?.[i];
    const written: WriteOutcome = outcome
      ? { write, ok: true, changed: outcome.changed, eventId: outcome.event?.id, ...(outcome.claimed && { claimed: outcome.claimed }), ...(outcome.repeats && { repeats: outcome.repeats }) }
      : { write, ok: false, error };
    try {
      onWritten(written);
    } catch (listenerError) {
      logger.error({ err: listenerError, rule: write.rule.id }, 'alert write listener failed');
    }
  });
}

/** Calls `onCommitted` (a failing listener is logged, not thrown). */
function tellCommitted({ onCommitted, logger }: AlertWriterOptions): void {
  try {
    onCommitted?.();
  } catch (listenerError) {
    logger.error({ err: listenerError }, 'alert commit listener failed');
  }
}

type Report = (unit: Unit, outcomes: Written[] | undefined, error?: unknown) => void;

/**
 * Settles each unit of one attempt at committing `pending`: committed ones and those failed for good
 * are reported; the retriable failures come back, to be retried, with the first of their errors.
 */
function settleAttempt(pending: Unit[], settled: PromiseSettledResult<Written[]>[], report: Report, logger: Logger): { retry: Unit[]; firstError: unknown } {
  const retry: Unit[] = [];
  let firstError: unknown;
  settled.forEach((result, i) => {
    const unit = pending[i]!;
    if (result.status === 'fulfilled') {
      unit.settle();
      report(unit, result.value);
      return;
    }
    if (isRetriableFailure(result.reason)) {
      unit.fail(result.reason);
      firstError ??= result.reason;
      retry.push(unit);
      return;
    }
    unit.settle(result.reason);
    logger.error({ err: result.reason, writes: unit.writes.length, readings: unit.readings.length }, 'alert write failed; given up');
    report(unit, undefined, result.reason);
  });
  return { retry, firstError };
}

/**
 * One ordered queue of units (readings with the alert writes they caused, or a lone write), committed
 * in push order: a batch of units goes to the store at once, so they share one group commit; the next
 * batch starts when it is done. A retriable failure (a locked or unreachable store) retries the
 * failed units with the one backoff, until they commit, before anything queued after them: a rule's
 * resolve never overtakes its fire, and a reading is never stored ahead of an earlier one's events.
 */
export function createAlertWriter(options: AlertWriterOptions): AlertWriter {
  const { logger, maxBatch = 256 } = options;
  if (!(Number.isInteger(maxBatch) && maxBatch >= 1)) throw new RangeError(`maxBatch must be an integer ≥ 1, got ${maxBatch}`);
  const queue: Unit[] = [];
  let last: Promise<void> = Promise.resolve();
  let running = false;
  let queued = 0;
  /** The failure the head batch is backing off from: units queued meanwhile are told at once. */
  let failing: unknown;

  const report = (unit: Unit, outcomes: Written[] | undefined, error?: unknown) => {
    reportUnit(unit, outcomes, error, options.onWritten, logger);
    queued -= unit.writes.length;
    unit.finish();
  };

  async function runBatch(batch: Unit[]): Promise<void> {
    let pending = batch;
    await withBackoff(
      async () => {
        const settled = await commitTogether(options, pending, options.claimOutbox?.() ?? false);
        const { retry, firstError } = settleAttempt(pending, settled, report, logger);
        tellCommitted(options);
        pending = retry;
        failing = firstError;
        if (retry.length > 0) throw firstError;
      },
      {
        ...options.backoff,
        maxRetries: Infinity,
        onRetry: ({ error, attempt, delayMs }) => {
          logger.warn({ err: error, attempt, delayMs, units: pending.length }, 'store write failed; retrying');
          for (const unit of queue) unit.fail(error);
        },
      },
    );
  }

  async function run(): Promise<void> {
    running = true;
    while (queue.length > 0) await runBatch(nextBatch(queue, maxBatch));
    failing = undefined;
    running = false;
  }

  function enqueue(writes: AlertWrite[], readings: Reading[], { waitOutRetries = false } = {}): Promise<void> {
    let callbacks!: { resolve(): void; reject(error: unknown): void };
    const acknowledged = new Promise<void>((resolve, reject) => (callbacks = { resolve, reject }));
    // The caller may not wait (a lone write): its failure is reported through onWritten, not as an unhandled rejection.
    acknowledged.catch(() => {});
    const unit = newUnit(writes, readings, callbacks, waitOutRetries);
    if (writes.length === 0 && readings.length === 0) {
      unit.settle();
      return acknowledged;
    }
    queued += writes.length;
    queue.push(unit);
    last = Promise.all([last, unit.done]).then(() => undefined);
    if (failing !== undefined) unit.fail(failing);
    if (!running) void run();
    return acknowledged;
  }

  return {
    push(write) {
      void enqueue([write], []);
    },
    commit: enqueue,
    drain: () => last,
    get queued() {
      return queued;
    },
  };
}

/** Whether a failed commit is worth another attempt: a StoreError says so; anything of unknown kind is not retried forever. */
function isRetriableFailure(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'retriable' in error && error.retriable === true;
}
