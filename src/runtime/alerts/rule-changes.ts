import { randomUUID } from 'node:crypto';
import { concatMap, first, from, type Subscription } from 'rxjs';
import type { Rule } from '../../domain/rule.ts';
import { TOPICS, type Batch, type Broker } from '../../streams/broker.ts';
import type { Logger } from '../logger.ts';

/** A rule was created, updated or deleted: its owner re-reads it from the store. */
export interface RuleChange {
  rule_id: string;
  device_id: string;
}

/** Options of `ruleChangeFeed`. */
export interface RuleChangeFeedOptions {
  broker: Broker;
  /** The instances' consumer group; each instance reads the changes in a group of its own under it. */
  groupId: string;
  logger: Logger;
}

/**
 * Rule changes between instances, on the `rule-changes` topic keyed by device. Every instance reads
 * every change (a consumer group of its own, from the latest offset), since rule ownership follows
 * the partitions of the readings topic, not of this one; whoever owns the rule's device acts on it.
 * The interval reconciliation stays the safety net for a change published while an instance was
 * joining, or not published at all.
 */
export function ruleChangeFeed(options: RuleChangeFeedOptions) {
  const { broker, logger } = options;
  const groupId = `${options.groupId}.rule-changes.${randomUUID()}`;
  let subscription: Subscription | undefined;
  let joined: Subscription | undefined;

  async function handle(batch: Batch, refresh: (ruleId: string) => Promise<void>): Promise<void> {
    try {
      const ids = new Set(batch.messages.map((message) => (message.value as Partial<RuleChange> | null)?.rule_id).filter((id) => typeof id === 'string'));
      for (const id of ids) await refresh(id);
      batch.ack();
    } catch (error) {
      logger.warn({ err: error }, 'rule change not applied; it will be delivered again');
      batch.nack(error);
    }
  }

  return {
    /** Publishes that `rule` changed; a failure is logged (the interval reconciliation catches up). */
    async publish(rule: Pick<Rule, 'id' | 'device_id'>): Promise<void> {
      const change: RuleChange = { rule_id: rule.id, device_id: rule.device_id };
      try {
        await broker.publish(TOPICS.ruleChanges, change, { key: rule.device_id });
      } catch (error) {
        logger.warn({ err: error, rule: rule.id }, 'rule change not published; owners adopt it at the next interval');
      }
    },
    /**
     * Reads changes until `stop()`, calling `refresh` with each changed rule's id (in order, per
     * device). Once the feed's partitions are first assigned, `reconcile` runs once: a change made
     * while this instance was joining (before its offsets were set) is then not left to the interval.
     */
    start(handlers: { refresh: (ruleId: string) => Promise<void>; reconcile: () => Promise<void> }): void {
      subscription = broker
        .consume([TOPICS.ruleChanges], { groupId, fromBeginning: false, batchSize: 100, batchMs: 0 })
        .pipe(concatMap((batch) => from(handle(batch, handlers.refresh))))
        .subscribe({ error: (error: unknown) => logger.error({ err: error }, 'rule changes no longer read; owners adopt changes at each interval') });
      joined = broker
        .assignments?.(TOPICS.ruleChanges)
        .pipe(first((partitions) => partitions.length > 0))
        .subscribe(() => void handlers.reconcile().catch((error: unknown) => logger.warn({ err: error }, 'rules not reconciled after joining; the interval will')));
    },
    stop(): void {
      subscription?.unsubscribe();
      joined?.unsubscribe();
      subscription = undefined;
      joined = undefined;
    },
  };
}

/** The rule change feed of one runtime. */
export type RuleChangeFeed = ReturnType<typeof ruleChangeFeed>;
