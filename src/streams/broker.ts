import type { Observable } from 'rxjs';

/** A message as a consumer sees it; `offset` is a string because Kafka offsets exceed 2^53. */
export interface BrokerMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: unknown;
  /** ISO-8601 time the broker accepted the message. */
  timestamp: string;
}

/**
 * Messages of one topic-partition delivered together. The consumer calls `ack()` once its handler
 * succeeded (the offset is committed) or `nack(error)` when it failed (the batch is delivered again).
 * Until one of them is called, the partition delivers nothing further to the group.
 */
export interface Batch {
  topic: string;
  partition: number;
  messages: BrokerMessage[];
  ack(): void;
  nack(error: unknown): void;
}

/** Where a published message landed. */
export interface PublishReceipt {
  topic: string;
  partition: number;
  offset: string;
}

export interface PublishOptions {
  /** Messages with the same key land in the same partition, in order. */
  key?: string;
}

export interface ConsumeOptions {
  /** Each group receives each message once; members of one group share the partitions. */
  groupId: string;
  /** A batch closes at this many messages… (default 25) */
  batchSize?: number;
  /** …or this many milliseconds after its first message, whichever comes first (default 5000). */
  batchMs?: number;
  /**
   * `batchMs` of some topics, overriding it: 0 delivers what has arrived (what one fetch returned,
   * up to `batchSize`) at once, never waiting for a batch to fill.
   */
  topicBatchMs?: Record<string, number>;
  /** Where a group with no committed offset starts (default 'earliest'). */
  fromBeginning?: boolean;
}

export interface BrokerHealth {
  ok: boolean;
  detail?: string;
}

/** The Broker port: what the core needs from a message broker, and nothing else. */
export interface Broker {
  readonly kind: string;
  /** Publishes one message; rejects with a BrokerError (retriable when the broker is full or unreachable). */
  publish(topic: string, value: unknown, options?: PublishOptions): Promise<PublishReceipt>;
  /** Batches for the group; unsubscribing leaves the group, and unacknowledged batches go to the next member. */
  consume(topics: string[], options: ConsumeOptions): Observable<Batch>;
  health(): Promise<BrokerHealth>;
  close(): Promise<void>;
  /** Partitions of `topic` this process's consumers own now, again after each rebalance; absent = owns them all. */
  assignments?(topic: string): Observable<number[]>;
  /** The partition a message keyed `key` lands in on `topic`, by the adapter's partitioner. */
  partitionOf?(topic: string, key: string): Promise<number>;
}

/**
 * The batch wait of each topic under `options` (its `topicBatchMs` entry, else `batchMs`, else
 * `fallbackMs`); throws a RangeError naming the option when a wait is not a finite number ≥ 0.
 */
export function batchWaits(options: ConsumeOptions, fallbackMs: number): (topic: string) => number {
  const batchMs = options.batchMs ?? fallbackMs;
  if (!(Number.isFinite(batchMs) && batchMs >= 0)) throw new RangeError(`batchMs must be a finite number ≥ 0, got ${batchMs}`);
  const byTopic = new Map(Object.entries(options.topicBatchMs ?? {}));
  for (const [topic, ms] of byTopic) {
    if (!(Number.isFinite(ms) && ms >= 0)) throw new RangeError(`topicBatchMs['${topic}'] must be a finite number ≥ 0, got ${ms}`);
  }
  return (topic) => byTopic.get(topic) ?? batchMs;
}

/** Well-known topics. */
export const TOPICS = {
  systemAlerts: 'system-alerts',
  deviceReadings: 'device-readings',
  notifications: 'notifications',
  /** Rule created, updated or deleted (keyed by device), read by every instance on Kafka. */
  ruleChanges: 'rule-changes',
} as const;

/** The dead-letter topic of `topic`: where messages go that a handler cannot process. */
export const deadLetterTopic = (topic: string): string => `${topic}.dlq`;
