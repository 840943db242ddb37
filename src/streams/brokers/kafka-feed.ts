import { backoffDelay, type BackoffOptions } from '../backoff.ts';
import type { Batch, BrokerMessage } from '../broker.ts';

/** How one partition's messages become Batches, and what happens to a batch that keeps failing. */
export interface FeedOptions {
  topic: string;
  partition: number;
  batchSize: number;
  batchMs: number;
  /** Failed deliveries of the same messages before they are isolated, then dead-lettered (≥ 1). */
  maxDeliveries: number;
  /** Fetching pauses while this many messages wait behind the batch in flight. */
  pauseAt: number;
  redelivery: Partial<BackoffOptions>;
  emit(batch: Batch): void;
  /** Commits `nextOffset` (the offset after the last processed message). */
  commit(nextOffset: string): Promise<void>;
  /** Publishes one message to the dead-letter topic, with why it failed. */
  deadLetter(message: BrokerMessage, error: string, deliveries: number): Promise<void>;
  pause(): void;
  resume(): void;
  /** A commit or dead-letter step failed; the messages will come again. */
  onError(error: unknown, step: 'commit' | 'dead-letter'): void;
}

/** The delivery state of one assigned partition. */
export interface PartitionFeed {
  /** Takes fetched messages; offsets already taken are skipped (kafkajs refetches from the committed offset after a rejoin). */
  push(messages: BrokerMessage[]): void;
  /** Whether a batch awaits ack or nack. */
  readonly busy: boolean;
  /** Delivers nothing more: stopping or rebalancing. Returns once the batch in flight (if any) settled or `timeoutMs` passed. */
  drain(timeoutMs: number): Promise<void>;
  /** The partition was revoked: forget the queue; a late ack of the batch in flight commits nothing. */
  revoke(): void;
}

/**
 * One batch in flight per partition (the Broker port's promise). A nacked batch is delivered again,
 * the same offsets, after a backoff. After `maxDeliveries` failures a batch of several messages is
 * split into batches of one, so that only the message that keeps failing is dead-lettered.
 */
export function createPartitionFeed(options: FeedOptions): PartitionFeed {
  return new KafkaPartitionFeed(options);
}

type Queued = { message: BrokerMessage; arrivedAt: number };

class KafkaPartitionFeed implements PartitionFeed {
  private queue: Queued[] = [];
  private nextAccepted: bigint | null = null;
  private inFlight: { messages: BrokerMessage[]; settled: boolean } | null = null;
  private retry: { messages: BrokerMessage[]; failures: number; notBefore: number } | null = null;
  private isolateThrough: bigint | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private paused = false;
  private frozen = false;
  private revoked = false;
  private readonly settledWaiters = new Set<() => void>();
  // Commits go out one after another, so a later offset never lands before an earlier one.
  private commits: Promise<void> = Promise.resolve();

  constructor(private readonly options: FeedOptions) {}

  push(messages: BrokerMessage[]): void {
    if (this.revoked) return;
    for (const message of messages) {
      const offset = BigInt(message.offset);
      if (this.nextAccepted !== null && offset < this.nextAccepted) continue;
      this.nextAccepted = offset + 1n;
      this.queue.push({ message, arrivedAt: Date.now() });
    }
    if (!this.paused && this.queue.length >= this.options.pauseAt) {
      this.paused = true;
      this.options.pause();
    }
    this.pump();
  }

  get busy(): boolean {
    return this.inFlight !== null;
  }

  async drain(timeoutMs: number): Promise<void> {
    this.frozen = true;
    clearTimeout(this.timer);
    if (this.inFlight) await this.settledWithin(timeoutMs);
    await this.commits;
  }

  revoke(): void {
    this.revoked = true;
    clearTimeout(this.timer);
    this.queue = [];
    this.retry = null;
  }

  private commit(nextOffset: string): Promise<void> {
    const done = this.commits.then(() => this.options.commit(nextOffset));
    this.commits = done.catch(() => undefined);
    return done;
  }

  private schedule(at: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, Math.max(0, at - Date.now()));
  }

  /** Delivers the retry once its backoff is over, else the next batch once it is full or its wait is over. */
  private pump(): void {
    if (this.inFlight || this.frozen || this.revoked) return;
    if (this.retry) {
      if (Date.now() < this.retry.notBefore) return this.schedule(this.retry.notBefore);
      return this.deliver(this.retry.messages);
    }
    if (this.queue.length === 0) return;
    const isolating = this.isolateThrough !== null && BigInt(this.queue[0].message.offset) <= this.isolateThrough;
    const max = isolating ? 1 : this.options.batchSize;
    const closesAt = this.queue.length >= max ? 0 : this.queue[0].arrivedAt + this.options.batchMs;
    if (Date.now() < closesAt) {
      if (!this.timer) this.schedule(closesAt);
      return;
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    this.deliver(this.take(max));
  }

  /** The next `max` queued messages; fetching resumes once the queue is below `pauseAt` again. */
  private take(max: number): BrokerMessage[] {
    const taken = this.queue.splice(0, max).map((entry) => entry.message);
    if (this.isolateThrough !== null && BigInt(taken[taken.length - 1].offset) >= this.isolateThrough) this.isolateThrough = null;
    if (this.paused && this.queue.length < this.options.pauseAt) {
      this.paused = false;
      this.options.resume();
    }
    return taken;
  }

  private settle(): void {
    this.inFlight = null;
    for (const wake of this.settledWaiters) wake();
    queueMicrotask(() => this.pump());
  }

  private deliver(messages: BrokerMessage[]): void {
    const flight = { messages, settled: false };
    this.inFlight = flight;
    const failures = this.retry?.failures ?? 0;
    this.options.emit({
      topic: this.options.topic,
      partition: this.options.partition,
      messages,
      ack: () => {
        if (flight.settled) return;
        flight.settled = true;
        this.retry = null;
        const next = String(BigInt(messages[messages.length - 1].offset) + 1n);
        if (!this.revoked) this.commit(next).catch((error: unknown) => this.options.onError(error, 'commit'));
        this.settle();
      },
      nack: (error) => {
        if (flight.settled) return;
        flight.settled = true;
        void this.failed(messages, failures + 1, error).finally(() => this.settle());
      },
    });
  }

  /** A nacked batch: retried after a backoff, then split into batches of one, then dead-lettered. */
  private async failed(messages: BrokerMessage[], failures: number, error: unknown): Promise<void> {
    if (this.revoked) return;
    if (failures < this.options.maxDeliveries) {
      this.retry = { messages, failures, notBefore: Date.now() + backoffDelay(failures, this.options.redelivery) };
      return;
    }
    if (messages.length > 1) {
      this.retry = null;
      this.isolateThrough = BigInt(messages[messages.length - 1].offset);
      this.queue = [...messages.map((message) => ({ message, arrivedAt: 0 })), ...this.queue];
      return;
    }
    await this.deadLetter(messages[0], failures, error);
  }

  /** Publishes the message to the dead-letter topic, then commits past it. */
  private async deadLetter(message: BrokerMessage, failures: number, error: unknown): Promise<void> {
    const reason = error instanceof Error ? error.message : String(error);
    let published = false;
    try {
      await this.options.deadLetter(message, reason, failures);
      published = true;
      this.retry = null;
      await this.commit(String(BigInt(message.offset) + 1n));
    } catch (cause) {
      this.options.onError(cause, published ? 'commit' : 'dead-letter');
      // Not dead-lettered yet: try again later rather than skip a message nobody processed.
      if (!published) this.retry = { messages: [message], failures, notBefore: Date.now() + backoffDelay(failures, this.options.redelivery) };
    }
  }

  private settledWithin(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(giveUp);
        this.settledWaiters.delete(done);
        resolve();
      };
      const giveUp = setTimeout(done, timeoutMs);
      this.settledWaiters.add(done);
    });
  }
}
