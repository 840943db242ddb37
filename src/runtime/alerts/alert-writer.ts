import { randomUUID } from 'node:crypto';
import type { AlertIntent } from '../../actors/alert.ts';
import type { Store } from '../../storage/store.ts';
import { withBackoff } from '../../streams/backoff.ts';
import type { Logger } from '../logger.ts';
import { firedNotifications, resolvedNotifications } from './notifications.ts';

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
  /** Called after each write, in order. */
  onWritten?: (outcome: WriteOutcome) => void;
  /** Retries of a retriable store failure before the write is given up (default: the one backoff's). */
  retries?: number;
}

/** The ordered queue of alert writes: `push` never blocks the machine that fires; `drain` awaits the queue. */
export interface AlertWriter {
  push(write: AlertWrite): void;
  /** Resolves once every write pushed so far is done. */
  drain(): Promise<void>;
  readonly queued: number;
}

/**
 * Writes fire/resolve intents one at a time, in the order the machines emitted them, so a rule's
 * resolve never overtakes its fire. Each write is one store transaction (event + outbox rows); the
 * store's one-open-event-per-rule rule makes a repeated fire harmless.
 */
export function createAlertWriter(options: AlertWriterOptions): AlertWriter {
  const { store, logger } = options;
  const queue: AlertWrite[] = [];
  let running: Promise<void> | undefined;

  async function write(w: AlertWrite): Promise<WriteOutcome> {
    const at = new Date(w.at).toISOString();
    const { rule } = w;
    if (w.kind === 'fire') {
      const id = randomUUID();
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
      const result = await store.alerts.open(event, firedNotifications(rule, event));
      return { write: w, ok: true, changed: result.created, eventId: result.event.id };
    }
    const open = await store.alerts.openFor(rule.id);
    if (!open) return { write: w, ok: true, changed: false };
    const resolution = { resolved_at: at, resolution_value: w.value };
    const resolved = await store.alerts.resolve(rule.id, resolution, resolvedNotifications(rule, { ...open, ...resolution }));
    return { write: w, ok: true, changed: resolved !== undefined, eventId: open.id };
  }

  async function run(): Promise<void> {
    while (queue.length > 0) {
      const next = queue.shift()!;
      let outcome: WriteOutcome;
      try {
        outcome = await withBackoff(() => write(next), {
          maxRetries: options.retries,
          onRetry: ({ error, attempt, delayMs }) => logger.warn({ err: error, rule: next.rule.id, attempt, delayMs }, 'alert write failed; retrying'),
        });
      } catch (error) {
        logger.error({ err: error, rule: next.rule.id, kind: next.kind }, 'alert write failed; given up');
        outcome = { write: next, ok: false, error };
      }
      options.onWritten?.(outcome);
    }
  }

  return {
    push(w) {
      queue.push(w);
      running ??= run().finally(() => {
        running = undefined;
      });
    },
    async drain() {
      while (running) await running;
    },
    get queued() {
      return queue.length;
    },
  };
}
