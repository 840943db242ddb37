import { Observable, type Subscriber } from 'rxjs';
import { BrokerError } from '../../errors.ts';
import type { Logger } from '../../ports/logger.ts';
import type { RunReporter } from '../../ports/run-reporter.ts';
import type { BackoffOptions } from '../backoff.ts';
import { batchWaits, deadLetterTopic, type Batch, type Broker, type BrokerHealth, type ConsumeOptions, type PublishOptions, type PublishReceipt } from '../broker.ts';
import type { KafkaLike } from './kafka-like.ts';
import { startGroupMember, type GroupTimings, type MemberOptions } from './kafka-member.ts';
import { KafkaMembers } from './kafka-members.ts';
import { KafkaMetadata } from './kafka-metadata.ts';
import { kafkaPartitionOf } from './kafka-partitioner.ts';
import { ProducerConnection } from './kafka-producer.ts';
import { encodeValue } from './codec.ts';

/** Options of the Kafka broker; `kafka` is the client (a kafkajs `Kafka`, or a fake in tests). */
export interface KafkaBrokerOptions {
  kafka: KafkaLike;
  logger: Logger;
  /** Where consumer connects, crashes and rebalances are reported (plugin health). */
  runs?: RunReporter;
  /** Where a group with no committed offset starts (default true = earliest). */
  fromBeginning?: boolean;
  /** Connection attempts of the producer and of each consumer: exponential backoff capped at maxMs. */
  retry?: { maxRetries?: number; initialMs?: number; maxMs?: number };
  /** Failed deliveries of the same messages before they are isolated and dead-lettered (default 5). */
  maxDeliveries?: number;
  /** Batches queued per partition behind the one in flight before that partition's fetching pauses (default 4). */
  maxQueuedBatches?: number;
  /** How long a stopping consumer waits for its batches in flight (default 5 s). */
  drainMs?: number;
  /** Wait before a nacked batch is delivered again. */
  redelivery?: Partial<BackoffOptions>;
  /** How long `health()` waits for a producer still connecting (default 1 s). */
  healthWaitMs?: number;
  /** Consumer group timings (defaults: the consumer specification's 6 s session, heartbeat every 1.5 s). */
  group?: Partial<GroupTimings>;
}

/** Defaults of the Kafka broker and of its consumers. */
export const KAFKA_BROKER_DEFAULTS = {
  fromBeginning: true,
  retry: { maxRetries: 10, initialMs: 500, maxMs: 30_000 },
  maxDeliveries: 5,
  maxQueuedBatches: 4,
  drainMs: 5_000,
  redelivery: { initialMs: 200, maxMs: 5_000, factor: 2, jitter: 0.2 },
  healthWaitMs: 1_000,
  batchSize: 25,
  batchMs: 5_000,
  group: { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 1_500, rebalanceTimeoutMs: 10_000 },
} as const;

/** The Kafka broker: the Broker port on kafkajs, plus which partitions this process owns and where a key lands. */
export interface KafkaBroker extends Broker {
  assignments(topic: string): Observable<number[]>;
  partitionOf(topic: string, key: string): Promise<number>;
}

/** A Broker on Kafka: one producer, one group member per `consume()`, offsets committed only after ack. */
export function createKafkaBroker(options: KafkaBrokerOptions): KafkaBroker {
  const { kafka, logger } = options;
  const retry = { ...KAFKA_BROKER_DEFAULTS.retry, ...options.retry, factor: 2, jitter: 'full' as const };
  const closing = new AbortController();
  const producer = new ProducerConnection({ kafka, logger, retry, closing: closing.signal });
  const metadata = new KafkaMetadata(kafka);
  const members = new KafkaMembers();
  let closed = false;

  const publish = async (topic: string, value: unknown, publishOptions: PublishOptions = {}): Promise<PublishReceipt> => {
    if (closed) throw new BrokerError('broker is closed: publish after close()', { code: 'BROKER_CLOSED' });
    return producer.send(topic, publishOptions.key ?? null, encodeValue(value));
  };

  /** A new member of the settings' group, feeding `subscriber` and dead-lettering through `publish`. */
  const startMember = (settings: MemberSettings, subscriber: Subscriber<Batch>): (() => void) => {
    const member = startGroupMember({
      ...settings,
      kafka,
      logger: logger.child({ groupId: settings.groupId }),
      runs: options.runs,
      emit: (batch) => subscriber.next(batch),
      deadLetter: async (message, error, deliveries) => {
        await publish(deadLetterTopic(message.topic), { error, deliveries, original: message }, { key: message.key ?? undefined });
        logger.warn({ topic: message.topic, partition: message.partition, offset: message.offset, deliveries, error }, 'message dead-lettered after repeated failures');
      },
      assigned: (assignment) => members.assigned(member, assignment),
      failed: (error) => {
        members.gaveUp(error.message);
        subscriber.error(error);
      },
    });
    return members.add(member, subscriber);
  };

  producer.connect().catch(() => undefined);

  return {
    kind: 'kafka',
    publish,

    consume(topics: string[], consumeOptions: ConsumeOptions): Observable<Batch> {
      const settings = memberSettings(options, topics, consumeOptions, retry);
      return new Observable<Batch>((subscriber) => {
        if (closed) {
          subscriber.complete();
          return undefined;
        }
        return startMember(settings, subscriber);
      });
    },

    assignments: (topic: string): Observable<number[]> => members.assignments(topic),

    async partitionOf(topic: string, key: string): Promise<number> {
      return kafkaPartitionOf(key, await metadata.partitionCount(topic));
    },

    async health(): Promise<BrokerHealth> {
      if (closed) return { ok: false, detail: 'closed' };
      if (!producer.current) await settledWithin(producer.connect(), options.healthWaitMs ?? KAFKA_BROKER_DEFAULTS.healthWaitMs);
      if (!producer.current) return { ok: false, detail: `Kafka producer not connected${producer.lastError ? `: ${producer.lastError}` : ' yet'}` };
      return members.health();
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      closing.abort(new BrokerError('broker is closed', { code: 'BROKER_CLOSED' }));
      await members.close();
      await Promise.all([producer.disconnect(), metadata.disconnect()].map((done) => done?.catch((error: unknown) => logger.warn({ err: error }, 'kafka disconnect failed'))));
    },
  };
}

/** What one `consume()` call sets of its group member: topics, batching, the broker's group timings, retries and limits. */
type MemberSettings = Pick<
  MemberOptions,
  'topics' | 'groupId' | 'fromBeginning' | 'batchSize' | 'batchMs' | 'group' | 'maxDeliveries' | 'maxQueuedBatches' | 'drainMs' | 'connectRetry' | 'redelivery'
>;

/** The member settings of a `consume()` call; throws a RangeError naming the option that is out of range. */
function memberSettings(options: KafkaBrokerOptions, topics: string[], consumeOptions: ConsumeOptions, connectRetry: MemberOptions['connectRetry']): MemberSettings {
  const batchSize = consumeOptions.batchSize ?? KAFKA_BROKER_DEFAULTS.batchSize;
  const batchMs = batchWaits(consumeOptions, KAFKA_BROKER_DEFAULTS.batchMs);
  if (topics.length === 0) throw new RangeError('topics must name at least one topic');
  if (!consumeOptions.groupId) throw new RangeError('groupId must be a non-empty string');
  if (!(Number.isSafeInteger(batchSize) && batchSize >= 1)) throw new RangeError(`batchSize must be an integer ≥ 1, got ${batchSize}`);
  return {
    topics,
    groupId: consumeOptions.groupId,
    fromBeginning: consumeOptions.fromBeginning ?? options.fromBeginning ?? KAFKA_BROKER_DEFAULTS.fromBeginning,
    batchSize,
    batchMs,
    group: { ...KAFKA_BROKER_DEFAULTS.group, ...options.group },
    maxDeliveries: options.maxDeliveries ?? KAFKA_BROKER_DEFAULTS.maxDeliveries,
    maxQueuedBatches: options.maxQueuedBatches ?? KAFKA_BROKER_DEFAULTS.maxQueuedBatches,
    drainMs: options.drainMs ?? KAFKA_BROKER_DEFAULTS.drainMs,
    connectRetry,
    redelivery: { ...KAFKA_BROKER_DEFAULTS.redelivery, ...options.redelivery },
  };
}

/** Waits for `promise` at most `ms`, ignoring its outcome. */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([promise.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
