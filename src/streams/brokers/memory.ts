import { Observable } from 'rxjs';
import { BrokerError } from '../../errors.ts';
import { backoffDelay, type BackoffOptions } from '../backoff.ts';
import { batchWaits, type Batch, type Broker, type BrokerHealth, type ConsumeOptions, type PublishOptions, type PublishReceipt } from '../broker.ts';
import { encodeValue } from './codec.ts';
import { MemoryGroups } from './memory-groups.ts';
import { MemoryTopics } from './memory-topics.ts';

/** Options of the in-process broker. */
export interface MemoryBrokerOptions {
  /** Partitions of every topic (default 1). */
  partitions?: number;
  /** Per topic, how many messages not yet committed by every group are kept before `publish` rejects with BROKER_FULL (default 100 000). */
  maxRetainedMessages?: number;
  /** Wait before a nacked or abandoned batch is delivered again. */
  redelivery?: Partial<BackoffOptions>;
}

/** Defaults of the in-process broker and of its consumers. */
export const MEMORY_BROKER_DEFAULTS = {
  partitions: 1,
  maxRetainedMessages: 100_000,
  batchSize: 25,
  batchMs: 5_000,
  fromBeginning: true,
  redelivery: { initialMs: 100, maxMs: 5_000, factor: 2, jitter: 0.2 },
} as const;

/** The in-process broker: Kafka's model (partitioned logs, consumer groups, committed offsets) in memory, for one process. */
export function createMemoryBroker(options: MemoryBrokerOptions = {}): Broker {
  const partitions = options.partitions ?? MEMORY_BROKER_DEFAULTS.partitions;
  const maxRetained = options.maxRetainedMessages ?? MEMORY_BROKER_DEFAULTS.maxRetainedMessages;
  const redelivery = { ...MEMORY_BROKER_DEFAULTS.redelivery, ...options.redelivery };
  requireInteger('partitions', partitions, 1);
  requireInteger('maxRetainedMessages', maxRetained, 1);
  backoffDelay(1, redelivery); // validates the redelivery options now rather than at the first nack

  const topics = new MemoryTopics(partitions, maxRetained);
  const groups = new MemoryGroups(topics, partitions, redelivery);
  let closed = false;

  return {
    kind: 'memory',

    async publish(topicName: string, value: unknown, publishOptions: PublishOptions = {}): Promise<PublishReceipt> {
      if (closed) throw new BrokerError('broker is closed: publish after close()', { code: 'BROKER_CLOSED' });
      const { partition, entry } = topics.append(topicName, publishOptions.key ?? null, encodeValue(value));
      groups.published(topicName, partition);
      return { topic: topicName, partition, offset: String(entry.offset) };
    },

    consume(topicNames: string[], consumeOptions: ConsumeOptions): Observable<Batch> {
      const batchSize = consumeOptions.batchSize ?? MEMORY_BROKER_DEFAULTS.batchSize;
      const batchMs = batchWaits(consumeOptions, MEMORY_BROKER_DEFAULTS.batchMs);
      const fromBeginning = consumeOptions.fromBeginning ?? MEMORY_BROKER_DEFAULTS.fromBeginning;
      if (topicNames.length === 0) throw new RangeError('topics must name at least one topic');
      if (!consumeOptions.groupId) throw new RangeError('groupId must be a non-empty string');
      requireInteger('batchSize', batchSize, 1);

      return new Observable<Batch>((subscriber) => {
        if (closed) {
          subscriber.complete();
          return undefined;
        }
        return groups.join(consumeOptions.groupId, { topics: new Set(topicNames), batchSize, batchMs, subscriber }, fromBeginning);
      });
    },

    async health(): Promise<BrokerHealth> {
      return closed ? { ok: false, detail: 'closed' } : { ok: true };
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      groups.close();
    },
  };
}

function requireInteger(field: string, value: number, min: number): void {
  if (!(Number.isSafeInteger(value) && value >= min)) {
    throw new RangeError(`${field} must be an integer ≥ ${min}, got ${String(value)}`);
  }
}
