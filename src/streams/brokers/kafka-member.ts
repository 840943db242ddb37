import { BrokerError, messageOf } from '../../errors.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { RunReporter } from '../../runtime/run-reporter.ts';
import { isRetriable, withBackoff, type BackoffOptions } from '../backoff.ts';
import type { Batch, BrokerMessage } from '../broker.ts';
import { createPartitionFeed, type PartitionFeed } from './kafka-feed.ts';
import type { ConsumerLike, EachBatchPayloadLike, InstrumentationEventLike, KafkaLike, KafkaMessageLike } from './kafka-like.ts';

/** How a member stays in its group: silent for `sessionTimeoutMs`, it is dropped and its partitions move. */
export interface GroupTimings {
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  rebalanceTimeoutMs: number;
}

/** The plugin name consumer runs are reported under (plugin health). */
export const KAFKA_CONSUMER_PLUGIN = 'kafka-consumer';

/** Everything one group member needs: where to read, how to batch, and where to report. */
export interface MemberOptions {
  kafka: KafkaLike;
  topics: string[];
  groupId: string;
  fromBeginning: boolean;
  batchSize: number;
  /** The batch wait of each topic. */
  batchMs: (topic: string) => number;
  group: GroupTimings;
  maxDeliveries: number;
  /** Queued batches per partition before its fetching pauses. */
  maxQueuedBatches: number;
  drainMs: number;
  connectRetry: Partial<BackoffOptions> & { maxRetries: number };
  redelivery: Partial<BackoffOptions>;
  logger: Logger;
  runs: RunReporter | undefined;
  emit(batch: Batch): void;
  deadLetter(message: BrokerMessage, error: string, deliveries: number): Promise<void>;
  /** The partitions of each topic this member owns now (after every rebalance; `{}` when it has none). */
  assigned(assignment: Record<string, number[]>): void;
  /** The member gave up (connection or restart retries exhausted). */
  failed(error: BrokerError): void;
}

/** A running member of a consumer group. */
export interface GroupMember {
  /** 'connecting' until the consumer runs; 'running'; 'stopped' after stop() or giving up. */
  readonly state: 'connecting' | 'running' | 'stopped';
  readonly lastError: string | undefined;
  /** Delivers nothing more, waits for the batches in flight (their acks commit), then leaves the group. */
  stop(): Promise<void>;
}

/** Joins the group and keeps it joined: connect retried with backoff, a consumer kafkajs stops after a crash is restarted. */
export function startGroupMember(options: MemberOptions): GroupMember {
  const { kafka, groupId, logger } = options;
  const feeds = new Map<string, PartitionFeed>();
  const abort = new AbortController();
  let consumer: ConsumerLike | undefined;
  let state: GroupMember['state'] = 'connecting';
  let lastError: string | undefined;
  let removeListeners: Array<() => void> = [];

  const report = (ok: boolean, error?: string): void => options.runs?.report(KAFKA_CONSUMER_PLUGIN, ok ? { ok } : { ok, error });

  const feedOf = (topic: string, partition: number): PartitionFeed => {
    const id = `${topic}/${partition}`;
    let feed = feeds.get(id);
    if (!feed) {
      feed = createPartitionFeed({
        topic,
        partition,
        batchSize: options.batchSize,
        batchMs: options.batchMs(topic),
        maxDeliveries: options.maxDeliveries,
        pauseAt: options.batchSize * options.maxQueuedBatches,
        redelivery: options.redelivery,
        emit: options.emit,
        commit: async (offset) => {
          await consumer?.commitOffsets([{ topic, partition, offset }]);
        },
        deadLetter: options.deadLetter,
        pause: () => consumer?.pause([{ topic, partitions: [partition] }]),
        resume: () => consumer?.resume([{ topic, partitions: [partition] }]),
        onError: (error, step) => logger.warn({ err: error, topic, partition, step }, 'kafka offset step failed; messages will be delivered again'),
      });
      feeds.set(id, feed);
    }
    return feed;
  };

  const revokeAll = (keep: Record<string, number[]> = {}): void => {
    for (const [id, feed] of feeds) {
      const [topic, partition] = splitId(id);
      if (keep[topic]?.includes(partition)) continue;
      feed.revoke();
      feeds.delete(id);
    }
  };

  async function eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayloadLike): Promise<void> {
    if (!isRunning() || isStale() || abort.signal.aborted) return;
    const messages = batch.messages.map((message) => toBrokerMessage(batch.topic, batch.partition, message));
    feedOf(batch.topic, batch.partition).push(messages);
    // With autoCommit off, resolving only moves the fetch position: the offset is committed once the batch is acked.
    resolveOffset(batch.lastOffset());
    await heartbeat();
  }

  const listen = (target: ConsumerLike): void => {
    removeListeners = [
      target.on(target.events.GROUP_JOIN, (event) => {
        const assignment = assignmentOf(event);
        revokeAll(assignment);
        options.assigned(assignment);
        logger.info({ assignment }, 'kafka partitions assigned');
        report(true);
      }),
      target.on(target.events.REBALANCING, () => {
        // Eager rebalancing: every partition is revoked until the group is joined again.
        options.assigned({});
        logger.info('kafka consumer group rebalancing');
      }),
      target.on(target.events.CRASH, (event) => {
        const { error, restart } = crashOf(event);
        lastError = error;
        report(false, `consumer crashed: ${error}`);
        if (restart) {
          logger.warn({ error }, 'kafka consumer crashed; kafkajs restarts it');
          return;
        }
        logger.error({ error }, 'kafka consumer crashed and stopped; restarting it');
        void restartAfterCrash();
      }),
    ];
  };

  const detach = async (): Promise<void> => {
    for (const remove of removeListeners) remove();
    removeListeners = [];
    const old = consumer;
    consumer = undefined;
    await old?.disconnect().catch((error: unknown) => logger.warn({ err: error }, 'kafka consumer disconnect failed'));
  };

  async function connect(): Promise<void> {
    await withBackoff(
      async (attempt) => {
        logger.info({ topics: options.topics, attempt: attempt + 1 }, 'kafka consumer connecting');
        const { sessionTimeoutMs, heartbeatIntervalMs, rebalanceTimeoutMs } = options.group;
        const created = options.kafka.consumer({
          groupId,
          sessionTimeout: sessionTimeoutMs,
          heartbeatInterval: heartbeatIntervalMs,
          rebalanceTimeout: rebalanceTimeoutMs,
          // kafkajs heartbeats between fetches: an idle fetch must not outlast a heartbeat period.
          maxWaitTimeInMs: heartbeatIntervalMs,
        });
        consumer = created;
        listen(created);
        try {
          await created.connect();
          await created.subscribe({ topics: options.topics, fromBeginning: options.fromBeginning });
          await created.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 1, eachBatch });
        } catch (error) {
          await detach();
          throw error;
        }
      },
      {
        ...options.connectRetry,
        shouldRetry: (error) => !abort.signal.aborted && isRetriable(error),
        signal: abort.signal,
        onRetry: ({ attempt, delayMs, error }) => {
          lastError = messageOf(error);
          report(false, `consumer connect failed: ${lastError}`);
          logger.warn({ attempt, delayMs, err: error }, 'kafka consumer connect failed; retrying');
        },
      },
    );
    if (abort.signal.aborted) {
      await detach();
      return;
    }
    state = 'running';
    lastError = undefined;
    logger.info({ topics: options.topics }, 'kafka consumer running');
  }

  const start = (): void => {
    connect().catch((error: unknown) => {
      if (abort.signal.aborted) return;
      state = 'stopped';
      lastError = messageOf(error);
      report(false, `consumer gave up: ${lastError}`);
      logger.error({ err: error }, 'kafka consumer gave up connecting; consumption stopped');
      options.failed(new BrokerError(`Kafka consumer of group '${groupId}' gave up: ${lastError}`, { code: 'KAFKA_CONSUMER_STOPPED', retriable: true, cause: error }));
    });
  };

  async function restartAfterCrash(): Promise<void> {
    if (abort.signal.aborted) return;
    state = 'connecting';
    revokeAll();
    options.assigned({});
    await detach();
    start();
  }

  start();

  return {
    get state() {
      return state;
    },
    get lastError() {
      return lastError;
    },
    async stop() {
      if (abort.signal.aborted) return;
      abort.abort(new BrokerError('consumer stopped', { code: 'BROKER_CLOSED' }));
      const draining = [...feeds.values()];
      if (consumer && state === 'running') {
        try {
          consumer.pause(options.topics.map((topic) => ({ topic })));
        } catch (error) {
          logger.debug({ err: error }, 'kafka consumer could not pause before stopping');
        }
      }
      await Promise.all(draining.map((feed) => feed.drain(options.drainMs)));
      revokeAll();
      state = 'stopped';
      await detach();
    },
  };
}

/** kafkajs message → Broker message; a value that is not JSON is handed over as its text, for the handler to reject. */
function toBrokerMessage(topic: string, partition: number, message: KafkaMessageLike): BrokerMessage {
  const text = message.value?.toString('utf8') ?? 'null';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = text;
  }
  const ms = Number(message.timestamp);
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key?.toString('utf8') ?? null,
    value,
    timestamp: new Date(Number.isFinite(ms) ? ms : Date.now()).toISOString(),
  };
}

function assignmentOf(event: InstrumentationEventLike): Record<string, number[]> {
  const payload = event.payload as { memberAssignment?: Record<string, number[]> } | undefined;
  return { ...(payload?.memberAssignment ?? {}) };
}

function crashOf(event: InstrumentationEventLike): { error: string; restart: boolean } {
  const payload = event.payload as { error?: unknown; restart?: unknown } | undefined;
  const error = payload?.error instanceof Error ? payload.error.message : String(payload?.error ?? 'unknown error');
  return { error, restart: payload?.restart === true };
}

function splitId(id: string): [string, number] {
  const at = id.lastIndexOf('/');
  return [id.slice(0, at), Number(id.slice(at + 1))];
}
