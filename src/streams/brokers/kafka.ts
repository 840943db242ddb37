import { BehaviorSubject, distinctUntilChanged, map, Observable, type Subscriber } from 'rxjs';
import { BrokerError, messageOf } from '../../errors.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { RunReporter } from '../../runtime/run-reporter.ts';
import { isRetriable, withBackoff, type BackoffOptions } from '../backoff.ts';
import { batchWaits, deadLetterTopic, type Batch, type Broker, type BrokerHealth, type ConsumeOptions, type PublishOptions, type PublishReceipt } from '../broker.ts';
import type { AdminLike, KafkaLike, ProducerLike } from './kafka-like.ts';
import { startGroupMember, type GroupMember, type GroupTimings } from './kafka-member.ts';
import { kafkaPartitionOf } from './kafka-partitioner.ts';
import { encodeValue } from './codec.ts';

export type { GroupTimings } from './kafka-member.ts';

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
  const { kafka } = options;
  const logger = options.logger;
  const retry = { ...KAFKA_BROKER_DEFAULTS.retry, ...options.retry, factor: 2, jitter: 'full' as const };
  const members = new Map<GroupMember, Subscriber<Batch>>();
  const assignmentsOf = new Map<GroupMember, Record<string, number[]>>();
  const assignmentChanges = new BehaviorSubject<void>(undefined);
  const stopping = new Set<Promise<void>>();
  const partitionCounts = new Map<string, Promise<number>>();
  const closing = new AbortController();
  let producer: ProducerLike | undefined;
  let producerConnecting: Promise<ProducerLike> | undefined;
  let producerError: string | undefined;
  let admin: AdminLike | undefined;
  /** Why a consumer gave up, until a later one runs: readiness stays false meanwhile (no silent stall). */
  let consumerGaveUp: string | undefined;
  let closed = false;

  const connectProducer = (): Promise<ProducerLike> =>
    (producerConnecting ??= withBackoff(
      async (attempt) => {
        logger.info({ attempt: attempt + 1 }, 'kafka producer connecting');
        const created = kafka.producer();
        try {
          await created.connect();
          return created;
        } catch (error) {
          await created.disconnect().catch(() => undefined);
          throw error;
        }
      },
      {
        ...retry,
        signal: closing.signal,
        onRetry: ({ attempt, delayMs, error }) => {
          producerError = messageOf(error);
          logger.warn({ attempt, delayMs, err: error }, 'kafka producer connect failed; retrying');
        },
      },
    ).then(
      (connected) => {
        if (closed) void connected.disconnect().catch(() => undefined);
        producer = connected;
        producerError = undefined;
        logger.info('kafka producer connected');
        return connected;
      },
      (error: unknown) => {
        producerConnecting = undefined;
        producerError = messageOf(error);
        if (!closed) logger.error({ err: error }, 'kafka producer gave up connecting');
        throw new BrokerError(`Kafka producer not connected: ${producerError}`, { code: 'KAFKA_UNAVAILABLE', retriable: true, cause: error });
      },
    ));

  const partitionCount = (topic: string): Promise<number> => {
    let count = partitionCounts.get(topic);
    if (!count) {
      count = (async () => {
        if (!admin) {
          const created = kafka.admin();
          await created.connect();
          admin = created;
        }
        const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
        const partitions = metadata.topics.find((each) => each.name === topic)?.partitions.length ?? 0;
        if (partitions < 1) throw new BrokerError(`Kafka topic '${topic}' has no partitions`, { code: 'KAFKA_UNKNOWN_TOPIC', retriable: true });
        return partitions;
      })();
      count.catch(() => partitionCounts.delete(topic));
      partitionCounts.set(topic, count);
    }
    return count;
  };

  const publish = async (topic: string, value: unknown, publishOptions: PublishOptions = {}): Promise<PublishReceipt> => {
    if (closed) throw new BrokerError('broker is closed: publish after close()', { code: 'BROKER_CLOSED' });
    const json = encodeValue(value);
    const client = producer ?? (await connectProducer());
    try {
      // acks = -1 (all in-sync replicas), kafkajs' default, said here: a 202 for a forwarded reading rests on it.
      const [metadata] = await client.send({ topic, messages: [{ key: publishOptions.key ?? null, value: json }], acks: -1 });
      return { topic, partition: metadata.partition, offset: metadata.baseOffset ?? metadata.offset ?? '0' };
    } catch (error) {
      const reason = messageOf(error);
      throw new BrokerError(`publish to Kafka topic '${topic}' failed: ${reason}`, { code: 'KAFKA_PUBLISH_FAILED', retriable: isRetriable(error), cause: error });
    }
  };

  const stopMember = (member: GroupMember): void => {
    members.delete(member);
    const stop = member.stop().finally(() => {
      stopping.delete(stop);
      assignmentsOf.delete(member);
      assignmentChanges.next();
    });
    stopping.add(stop);
  };

  connectProducer().catch(() => undefined);

  return {
    kind: 'kafka',
    publish,

    consume(topics: string[], consumeOptions: ConsumeOptions): Observable<Batch> {
      const batchSize = consumeOptions.batchSize ?? KAFKA_BROKER_DEFAULTS.batchSize;
      const batchMs = batchWaits(consumeOptions, KAFKA_BROKER_DEFAULTS.batchMs);
      if (topics.length === 0) throw new RangeError('topics must name at least one topic');
      if (!consumeOptions.groupId) throw new RangeError('groupId must be a non-empty string');
      if (!(Number.isSafeInteger(batchSize) && batchSize >= 1)) throw new RangeError(`batchSize must be an integer ≥ 1, got ${batchSize}`);

      return new Observable<Batch>((subscriber) => {
        if (closed) {
          subscriber.complete();
          return undefined;
        }
        const member = startGroupMember({
          kafka,
          topics,
          groupId: consumeOptions.groupId,
          fromBeginning: consumeOptions.fromBeginning ?? options.fromBeginning ?? KAFKA_BROKER_DEFAULTS.fromBeginning,
          batchSize,
          batchMs,
          group: { ...KAFKA_BROKER_DEFAULTS.group, ...options.group },
          maxDeliveries: options.maxDeliveries ?? KAFKA_BROKER_DEFAULTS.maxDeliveries,
          maxQueuedBatches: options.maxQueuedBatches ?? KAFKA_BROKER_DEFAULTS.maxQueuedBatches,
          drainMs: options.drainMs ?? KAFKA_BROKER_DEFAULTS.drainMs,
          connectRetry: retry,
          redelivery: { ...KAFKA_BROKER_DEFAULTS.redelivery, ...options.redelivery },
          logger: logger.child({ groupId: consumeOptions.groupId }),
          runs: options.runs,
          emit: (batch) => subscriber.next(batch),
          deadLetter: async (message, error, deliveries) => {
            await publish(deadLetterTopic(message.topic), { error, deliveries, original: message }, { key: message.key ?? undefined });
            logger.warn({ topic: message.topic, partition: message.partition, offset: message.offset, deliveries, error }, 'message dead-lettered after repeated failures');
          },
          assigned: (assignment) => {
            assignmentsOf.set(member, assignment);
            assignmentChanges.next();
          },
          failed: (error) => {
            consumerGaveUp = error.message;
            subscriber.error(error);
          },
        });
        members.set(member, subscriber);
        return () => {
          if (members.has(member)) stopMember(member);
        };
      });
    },

    assignments(topic: string): Observable<number[]> {
      return assignmentChanges.pipe(
        map(() => [...new Set([...assignmentsOf.values()].flatMap((assignment) => assignment[topic] ?? []))].sort((a, b) => a - b)),
        distinctUntilChanged((a, b) => a.length === b.length && a.every((partition, i) => partition === b[i])),
      );
    },

    async partitionOf(topic: string, key: string): Promise<number> {
      return kafkaPartitionOf(key, await partitionCount(topic));
    },

    async health(): Promise<BrokerHealth> {
      if (closed) return { ok: false, detail: 'closed' };
      if (!producer) await settledWithin(connectProducer(), options.healthWaitMs ?? KAFKA_BROKER_DEFAULTS.healthWaitMs);
      if (!producer) return { ok: false, detail: `Kafka producer not connected${producerError ? `: ${producerError}` : ' yet'}` };
      const current = [...members.keys()];
      if (current.some((member) => member.state === 'running')) consumerGaveUp = undefined;
      if (consumerGaveUp) return { ok: false, detail: consumerGaveUp };
      const notRunning = current.find((member) => member.state !== 'running');
      if (notRunning) return { ok: false, detail: `Kafka consumer ${notRunning.state}${notRunning.lastError ? `: ${notRunning.lastError}` : ''}` };
      return { ok: true };
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      closing.abort(new BrokerError('broker is closed', { code: 'BROKER_CLOSED' }));
      for (const [member, subscriber] of [...members]) {
        stopMember(member);
        subscriber.complete();
      }
      await Promise.all([...stopping]);
      assignmentChanges.complete();
      await Promise.all([producer?.disconnect(), admin?.disconnect()].map((done) => done?.catch((error: unknown) => logger.warn({ err: error }, 'kafka disconnect failed'))));
    },
  };
}

/** Waits for `promise` at most `ms`, ignoring its outcome. */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([promise.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
