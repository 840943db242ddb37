import type { AlertIntent } from '../../actors/alert.ts';
import { timeOrderedId } from '../../storage/ids.ts';
import type { Store } from '../../storage/store.ts';
import { withBackoff, type BackoffOptions } from '../../streams/backoff.ts';
import type { Logger } from '../logger.ts';
import { firedNotifications, resolvedNotifications, type AvailableChannels } from './notifications.ts';

/** A write the alert machines asked for. */
export interface AlertWrite extends AlertIntent {
  kind: 'fire' | 'resolve';
}

/** What a write did: `created`/`resolved` false when the store already had it so (idempotent). */
export type WriteOutcome = { write: AlertWrite; ok: true; changed: boolean; eventId?: string } | { write: AlertWrite; ok: false; error: unknown };

/** Options of `createAlertWriter`. */
export interface AlertWriterOptions {
  store: Store;
  logger: Logger;
  /**
   * Called once per write when it is done (or given up). A rule's outcomes come in its push order;
   * outcomes of different rules may interleave in any order.
   */
  onWritten?: (outcome: WriteOutcome) => void;
  /** Retries of a retriable store failure before the write is given up (default: the one backoff's). */
  retries?: number;
  /** The waits between retries (default: the one backoff's). */
  backoff?: Partial<BackoffOptions>;
  /** The channels a rule without `channels` is routed among by severity (default: console). */
  channels?: AvailableChannels;
  /** Most writes in flight at once, over all rules (default 256): enough to fill a store group. */
  maxInFlight?: number;
}

/** The alert writes, ordered per rule: `push` never blocks the machine that fires; `drain` awaits them. */
export interface AlertWriter {
  push(write: AlertWrite): void;
  /** Resolves once every write pushed so far is done. */
  drain(): Promise<void>;
  /** Writes pushed and not yet done. */
  readonly queued: number;
}

/** At most `max` holders at a time; the others wait their turn in arrival order. */
function slots(max: number): { acquire(): Promise<void>; release(): void } {
  let taken = 0;
  const waiting: (() => void)[] = [];
  return {
    acquire() {
      if (taken < max) {
        taken++;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => waiting.push(resolve));
    },
    release() {
      const next = waiting.shift();
      if (next) next();
      else taken--;
    },
  };
}

/**
 * Writes fire/resolve intents as one chain per rule: a rule's writes run one at a time in push order,
 * so its resolve never overtakes its fire, while writes of different rules run concurrently (at most
 * `maxInFlight`), which lets the store commit them in groups. Each write is one store transaction
 * (event + outbox rows); the store's one-open-event-per-rule rule makes a repeated fire harmless.
 */
export function createAlertWriter(options: AlertWriterOptions): AlertWriter {
  const { store, logger, maxInFlight = 256 } = options;
  if (!(Number.isInteger(maxInFlight) && maxInFlight >= 1)) {
    throw new RangeError(`maxInFlight must be an integer ≥ 1, got ${maxInFlight}`);
  }
  const inFlight = slots(maxInFlight);
  /** The last write of each rule with writes not yet done: the next one of that rule runs after it. */
  const tails = new Map<string, Promise<void>>();
  let queued = 0;

  async function write(w: AlertWrite): Promise<WriteOutcome> {
    const at = new Date(w.at).toISOString();
    const { rule } = w;
    if (w.kind === 'fire') {
      const id = timeOrderedId();
      const event = {
        id,
        alert_id: rule.id,
        device_id: rule.device_id,
        metric: rule.metric,
        operator: rule.operator,
        severity: rule.severity,
        threshold_value: rule.threshold,
        current_value: w.value,
        triggered_at: at,
        metadata: { rule_name: rule.name, for_seconds: rule.for_seconds, clear_threshold: rule.clear_threshold },
      };
      const result = await store.alerts.open(event, firedNotifications(rule, event, options.channels));
      return { write: w, ok: true, changed: result.created, eventId: result.event.id };
    }
    const open = await store.alerts.openFor(rule.id);
    if (!open) return { write: w, ok: true, changed: false };
    const resolution = { resolved_at: at, resolution_value: w.value };
    const resolved = await store.alerts.resolve(rule.id, resolution, resolvedNotifications(rule, { ...open, ...resolution }, options.channels));
    return { write: w, ok: true, changed: resolved !== undefined, eventId: open.id };
  }

  /** One write with its retries; never rejects: a write given up is an outcome too. */
  async function run(next: AlertWrite): Promise<void> {
    await inFlight.acquire();
    let outcome: WriteOutcome;
    try {
      outcome = await withBackoff(() => write(next), {
        ...options.backoff,
        maxRetries: options.retries,
        onRetry: ({ error, attempt, delayMs }) => logger.warn({ err: error, rule: next.rule.id, attempt, delayMs }, 'alert write failed; retrying'),
      });
    } catch (error) {
      logger.error({ err: error, rule: next.rule.id, kind: next.kind }, 'alert write failed; given up');
      outcome = { write: next, ok: false, error };
    } finally {
      inFlight.release();
    }
    queued--;
    try {
      options.onWritten?.(outcome);
    } catch (error) {
      // A failing listener must not stall the rule's chain (its later writes would never run).
      logger.error({ err: error, rule: next.rule.id }, 'alert write listener failed');
    }
  }

  return {
    push(w) {
      const ruleId = w.rule.id;
      queued++;
      const previous = tails.get(ruleId);
      const tail = previous ? previous.then(() => run(w)) : run(w);
      tails.set(ruleId, tail);
      void tail.then(() => {
        if (tails.get(ruleId) === tail) tails.delete(ruleId);
      });
    },
    async drain() {
      await Promise.all(tails.values());
    },
    get queued() {
      return queued;
    },
  };
}
