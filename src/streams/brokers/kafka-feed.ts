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
  const { topic, partition, batchSize, batchMs, maxDeliveries, pauseAt } = options;
  let queue: Array<{ message: BrokerMessage; arrivedAt: number }> = [];
  let nextAccepted: bigint | null = null;
  let inFlight: { messages: BrokerMessage[]; settled: boolean } | null = null;
  let retry: { messages: BrokerMessage[]; failures: number; notBefore: number } | null = null;
  let isolateThrough: bigint | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let paused = false;
  let frozen = false;
  let revoked = false;
  const settledWaiters = new Set<() => void>();
  // Commits go out one after another, so a later offset never lands before an earlier one.
  let commits: Promise<void> = Promise.resolve();
  const commit = (nextOffset: string): Promise<void> => {
    const done = commits.then(() => options.commit(nextOffset));
    commits = done.catch(() => undefined);
    return done;
  };

  const schedule = (at: number): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      pump();
    }, Math.max(0, at - Date.now()));
  };

  const pump = (): void => {
    if (inFlight || frozen || revoked) return;
    if (retry) {
      if (Date.now() < retry.notBefore) return schedule(retry.notBefore);
      return deliver(retry.messages);
    }
    if (queue.length === 0) return;
    const isolating = isolateThrough !== null && BigInt(queue[0].message.offset) <= isolateThrough;
    const max = isolating ? 1 : batchSize;
    const closesAt = queue.length >= max ? 0 : queue[0].arrivedAt + batchMs;
    if (Date.now() < closesAt) {
      if (!timer) schedule(closesAt);
      return;
    }
    clearTimeout(timer);
    timer = undefined;
    const taken = queue.splice(0, max).map((entry) => entry.message);
    if (isolateThrough !== null && BigInt(taken[taken.length - 1].offset) >= isolateThrough) isolateThrough = null;
    if (paused && queue.length < pauseAt) {
      paused = false;
      options.resume();
    }
    deliver(taken);
  };

  const settle = (): void => {
    inFlight = null;
    for (const wake of settledWaiters) wake();
    queueMicrotask(pump);
  };

  const deliver = (messages: BrokerMessage[]): void => {
    const flight = { messages, settled: false };
    inFlight = flight;
    const failures = retry?.failures ?? 0;
    options.emit({
      topic,
      partition,
      messages,
      ack: () => {
        if (flight.settled) return;
        flight.settled = true;
        retry = null;
        const next = String(BigInt(messages[messages.length - 1].offset) + 1n);
        if (!revoked) commit(next).catch((error: unknown) => options.onError(error, 'commit'));
        settle();
      },
      nack: (error) => {
        if (flight.settled) return;
        flight.settled = true;
        void failed(messages, failures + 1, error).finally(settle);
      },
    });
  };

  const failed = async (messages: BrokerMessage[], failures: number, error: unknown): Promise<void> => {
    if (revoked) return;
    if (failures < maxDeliveries) {
      retry = { messages, failures, notBefore: Date.now() + backoffDelay(failures, options.redelivery) };
      return;
    }
    if (messages.length > 1) {
      retry = null;
      isolateThrough = BigInt(messages[messages.length - 1].offset);
      queue = [...messages.map((message) => ({ message, arrivedAt: 0 })), ...queue];
      return;
    }
    const reason = error instanceof Error ? error.message : String(error);
    let published = false;
    try {
      await options.deadLetter(messages[0], reason, failures);
      published = true;
      retry = null;
      await commit(String(BigInt(messages[0].offset) + 1n));
    } catch (cause) {
      options.onError(cause, published ? 'commit' : 'dead-letter');
      // Not dead-lettered yet: try again later rather than skip a message nobody processed.
      if (!published) retry = { messages, failures, notBefore: Date.now() + backoffDelay(failures, options.redelivery) };
    }
  };

  const settledWithin = (timeoutMs: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(giveUp);
        settledWaiters.delete(done);
        resolve();
      };
      const giveUp = setTimeout(done, timeoutMs);
      settledWaiters.add(done);
    });

  return {
    push(messages) {
      if (revoked) return;
      for (const message of messages) {
        const offset = BigInt(message.offset);
        if (nextAccepted !== null && offset < nextAccepted) continue;
        nextAccepted = offset + 1n;
        queue.push({ message, arrivedAt: Date.now() });
      }
      if (!paused && queue.length >= pauseAt) {
        paused = true;
        options.pause();
      }
      pump();
    },
    get busy() {
      return inFlight !== null;
    },
    async drain(timeoutMs) {
      frozen = true;
      clearTimeout(timer);
      if (inFlight) await settledWithin(timeoutMs);
      await commits;
    },
    revoke() {
      revoked = true;
      clearTimeout(timer);
      queue = [];
      retry = null;
    },
  };
}
