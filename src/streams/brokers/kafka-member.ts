import { BrokerError, messageOf } from '../../errors.ts';
import type { Logger } from '../../ports/logger.ts';
import type { RunReporter } from '../../ports/run-reporter.ts';
import { isRetriable, withBackoff, type BackoffOptions } from '../backoff.ts';
import type { Batch, BrokerMessage } from '../broker.ts';
import { createPartitionFeed, type PartitionFeed } from './kafka-feed.ts';
import type { ConsumerLike, EachBatchPayloadLike, InstrumentationEventLike, KafkaLike, KafkaMessageLike } from './kafka-like.ts';

/** The plugin name consumer runs are reported under (plugin health). */
export const KAFKA_CONSUMER_PLUGIN = 'kafka-consumer';

/** How a member stays in its group: silent for `sessionTimeoutMs`, it is dropped and its partitions move. */
export interface GroupTimings {
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  rebalanceTimeoutMs: number;
}

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
  const member = new KafkaGroupMember(options);
  member.start();
  return member;
}

/** One member of a consumer group: its kafkajs consumer, the partition feeds it owns, and its lifecycle. */
class KafkaGroupMember implements GroupMember {
  private readonly feeds = new Map<string, PartitionFeed>();
  private readonly abort = new AbortController();
  private readonly logger: Logger;
  private consumer: ConsumerLike | undefined;
  private status: GroupMember['state'] = 'connecting';
  private failure: string | undefined;
  private removeListeners: Array<() => void> = [];

  constructor(private readonly options: MemberOptions) {
    this.logger = options.logger;
  }

  get state(): GroupMember['state'] {
    return this.status;
  }

  get lastError(): string | undefined {
    return this.failure;
  }

  /** Connects in the background; giving up stops the member and tells `options.failed`. */
  start(): void {
    this.connect().catch((error: unknown) => {
      if (this.abort.signal.aborted) return;
      this.status = 'stopped';
      this.failure = messageOf(error);
      this.report(false, `consumer gave up: ${this.failure}`);
      this.logger.error({ err: error }, 'kafka consumer gave up connecting; consumption stopped');
      const { groupId } = this.options;
      this.options.failed(new BrokerError(`Kafka consumer of group '${groupId}' gave up: ${this.failure}`, { code: 'KAFKA_CONSUMER_STOPPED', retriable: true, cause: error }));
    });
  }

  async stop(): Promise<void> {
    if (this.abort.signal.aborted) return;
    this.abort.abort(new BrokerError('consumer stopped', { code: 'BROKER_CLOSED' }));
    const draining = [...this.feeds.values()];
    if (this.consumer && this.status === 'running') {
      try {
        this.consumer.pause(this.options.topics.map((topic) => ({ topic })));
      } catch (error) {
        this.logger.debug({ err: error }, 'kafka consumer could not pause before stopping');
      }
    }
    await Promise.all(draining.map((feed) => feed.drain(this.options.drainMs)));
    this.revokeAll();
    this.status = 'stopped';
    await this.detach();
  }

  private report(ok: boolean, error?: string): void {
    this.options.runs?.report(KAFKA_CONSUMER_PLUGIN, ok ? { ok } : { ok, error });
  }

  private async connect(): Promise<void> {
    const { signal } = this.abort;
    await withBackoff((attempt) => this.attempt(attempt), {
      ...this.options.connectRetry,
      shouldRetry: (error) => !signal.aborted && isRetriable(error),
      signal,
      onRetry: ({ attempt, delayMs, error }) => {
        this.failure = messageOf(error);
        this.report(false, `consumer connect failed: ${this.failure}`);
        this.logger.warn({ attempt, delayMs, err: error }, 'kafka consumer connect failed; retrying');
      },
    });
    if (signal.aborted) {
      await this.detach();
      return;
    }
    this.status = 'running';
    this.failure = undefined;
    this.logger.info({ topics: this.options.topics }, 'kafka consumer running');
  }

  /** One connection attempt: a new consumer, subscribed and running, or detached again on failure. */
  private async attempt(attempt: number): Promise<void> {
    const { kafka, groupId, topics, fromBeginning, group } = this.options;
    this.logger.info({ topics, attempt: attempt + 1 }, 'kafka consumer connecting');
    const created = kafka.consumer({
      groupId,
      sessionTimeout: group.sessionTimeoutMs,
      heartbeatInterval: group.heartbeatIntervalMs,
      rebalanceTimeout: group.rebalanceTimeoutMs,
      // kafkajs heartbeats between fetches: an idle fetch must not outlast a heartbeat period.
      maxWaitTimeInMs: group.heartbeatIntervalMs,
    });
    this.consumer = created;
    this.listen(created);
    try {
      await created.connect();
      await created.subscribe({ topics, fromBeginning });
      await created.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 1, eachBatch: (payload) => this.eachBatch(payload) });
    } catch (error) {
      await this.detach();
      throw error;
    }
  }

  private listen(target: ConsumerLike): void {
    this.removeListeners = [
      target.on(target.events.GROUP_JOIN, (event) => this.joined(assignmentOf(event))),
      target.on(target.events.REBALANCING, () => {
        // Eager rebalancing: every partition is revoked until the group is joined again.
        this.options.assigned({});
        this.logger.info('kafka consumer group rebalancing');
      }),
      target.on(target.events.CRASH, (event) => this.crashed(crashOf(event))),
    ];
  }

  private joined(assignment: Record<string, number[]>): void {
    this.revokeAll(assignment);
    this.options.assigned(assignment);
    this.logger.info({ assignment }, 'kafka partitions assigned');
    this.report(true);
  }

  private crashed({ error, restart }: { error: string; restart: boolean }): void {
    this.failure = error;
    this.report(false, `consumer crashed: ${error}`);
    if (restart) {
      this.logger.warn({ error }, 'kafka consumer crashed; kafkajs restarts it');
      return;
    }
    this.logger.error({ error }, 'kafka consumer crashed and stopped; restarting it');
    void this.restartAfterCrash();
  }

  private async restartAfterCrash(): Promise<void> {
    if (this.abort.signal.aborted) return;
    this.status = 'connecting';
    this.revokeAll();
    this.options.assigned({});
    await this.detach();
    this.start();
  }

  private async detach(): Promise<void> {
    for (const remove of this.removeListeners) remove();
    this.removeListeners = [];
    const old = this.consumer;
    this.consumer = undefined;
    await old?.disconnect().catch((error: unknown) => this.logger.warn({ err: error }, 'kafka consumer disconnect failed'));
  }

  private async eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayloadLike): Promise<void> {
    if (!isRunning() || isStale() || this.abort.signal.aborted) return;
    const messages = batch.messages.map((message) => toBrokerMessage(batch.topic, batch.partition, message));
    this.feedOf(batch.topic, batch.partition).push(messages);
    // With autoCommit off, resolving only moves the fetch position: the offset is committed once the batch is acked.
    resolveOffset(batch.lastOffset());
    await heartbeat();
  }

  private feedOf(topic: string, partition: number): PartitionFeed {
    const id = `${topic}/${partition}`;
    let feed = this.feeds.get(id);
    if (!feed) {
      const { options } = this;
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
          await this.consumer?.commitOffsets([{ topic, partition, offset }]);
        },
        deadLetter: options.deadLetter,
        pause: () => this.consumer?.pause([{ topic, partitions: [partition] }]),
        resume: () => this.consumer?.resume([{ topic, partitions: [partition] }]),
        onError: (error, step) => this.logger.warn({ err: error, topic, partition, step }, 'kafka offset step failed; messages will be delivered again'),
      });
      this.feeds.set(id, feed);
    }
    return feed;
  }

  /** Drops the feeds of every partition not in `keep`. */
  private revokeAll(keep: Record<string, number[]> = {}): void {
    for (const [id, feed] of this.feeds) {
      const [topic, partition] = splitId(id);
      if (keep[topic]?.includes(partition)) continue;
      feed.revoke();
      this.feeds.delete(id);
    }
  }
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
