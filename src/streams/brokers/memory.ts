import { Observable, type Subscriber } from 'rxjs';
import { BrokerError } from '../../errors.ts';
import { backoffDelay, type BackoffOptions } from '../backoff.ts';
import { batchWaits, type Batch, type Broker, type BrokerHealth, type BrokerMessage, type ConsumeOptions, type PublishOptions, type PublishReceipt } from '../broker.ts';
import { createPartitionLog, partitionForKey, type LogEntry, type PartitionLog } from './memory-partition.ts';
import { encodeValue } from './codec.ts';

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

interface Topic {
  logs: PartitionLog[];
  roundRobin: number;
  /** Per group that ever consumed the topic, the next offset to deliver in each partition. */
  committed: Map<string, number[]>;
}

interface Member {
  topics: Set<string>;
  batchSize: number;
  /** The batch wait of each topic. */
  batchMs: (topic: string) => number;
  subscriber: Subscriber<Batch>;
}

/** Delivery state of one partition for one group. */
interface Slot {
  inFlight: { member: Member; lastOffset: number } | null;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Failed deliveries in a row, for the backoff. */
  failures: number;
  /** No delivery before this time (epoch ms). */
  notBefore: number;
  /** Set after a failure: the next delivery ends at this offset, so the same messages come again. */
  replayEnd: number | null;
}

interface Group {
  id: string;
  /** In join order; partition p of a topic goes to member p mod n of those consuming the topic. */
  members: Member[];
  slots: Map<string, Slot[]>;
}

/** The in-process broker: Kafka's model (partitioned logs, consumer groups, committed offsets) in memory, for one process. */
export function createMemoryBroker(options: MemoryBrokerOptions = {}): Broker {
  const partitions = options.partitions ?? MEMORY_BROKER_DEFAULTS.partitions;
  const maxRetained = options.maxRetainedMessages ?? MEMORY_BROKER_DEFAULTS.maxRetainedMessages;
  const redelivery = { ...MEMORY_BROKER_DEFAULTS.redelivery, ...options.redelivery };
  requireInteger('partitions', partitions, 1);
  requireInteger('maxRetainedMessages', maxRetained, 1);
  backoffDelay(1, redelivery); // validates the redelivery options now rather than at the first nack

  const topics = new Map<string, Topic>();
  const groups = new Map<string, Group>();
  let closed = false;

  const topicNamed = (name: string): Topic => {
    let topic = topics.get(name);
    if (!topic) {
      topic = { logs: Array.from({ length: partitions }, createPartitionLog), roundRobin: 0, committed: new Map() };
      topics.set(name, topic);
    }
    return topic;
  };

  const slotOf = (group: Group, topicName: string, partition: number): Slot => {
    let slots = group.slots.get(topicName);
    if (!slots) {
      slots = Array.from({ length: partitions }, () => ({ inFlight: null, timer: undefined, failures: 0, notBefore: 0, replayEnd: null }));
      group.slots.set(topicName, slots);
    }
    return slots[partition];
  };

  const ownerOf = (group: Group, topicName: string, partition: number): Member | undefined => {
    const candidates = group.members.filter((member) => member.topics.has(topicName));
    return candidates[partition % candidates.length];
  };

  // Deliveries always run in a later microtask or timer, never inside publish, ack or subscribe.
  const pumpSoon = (group: Group, topicName: string, partition: number): void => {
    queueMicrotask(() => pump(group, topicName, partition));
  };

  const pumpGroup = (group: Group): void => {
    for (const topicName of new Set(group.members.flatMap((member) => [...member.topics]))) {
      for (let partition = 0; partition < partitions; partition += 1) pumpSoon(group, topicName, partition);
    }
  };

  const pump = (group: Group, topicName: string, partition: number): void => {
    const slot = slotOf(group, topicName, partition);
    const owner = ownerOf(group, topicName, partition);
    const committed = topics.get(topicName)?.committed.get(group.id);
    if (closed || slot.inFlight || !owner || !committed) return;
    const offset = committed[partition];
    const replayEnd = slot.replayEnd !== null && slot.replayEnd >= offset ? slot.replayEnd : null;
    const max = replayEnd === null ? owner.batchSize : Math.min(owner.batchSize, replayEnd - offset + 1);
    const pending = topicNamed(topicName).logs[partition].read(offset, max);
    if (pending.length === 0) return;

    const batchClosesAt = pending.length >= max ? 0 : pending[0].appendedAt + owner.batchMs(topicName);
    const readyAt = Math.max(batchClosesAt, slot.notBefore);
    const now = Date.now();
    clearTimeout(slot.timer);
    slot.timer = undefined;
    if (now < readyAt) {
      slot.timer = setTimeout(() => pump(group, topicName, partition), readyAt - now);
      return;
    }
    deliver(group, topicName, partition, owner, pending);
  };

  const deliver = (group: Group, topicName: string, partition: number, owner: Member, entries: LogEntry[]): void => {
    const slot = slotOf(group, topicName, partition);
    const lastOffset = entries[entries.length - 1].offset;
    const flight = { member: owner, lastOffset };
    slot.inFlight = flight;
    slot.replayEnd = null;
    owner.subscriber.next({
      topic: topicName,
      partition,
      messages: entries.map((entry) => toMessage(topicName, partition, entry)),
      ack: () => {
        if (slot.inFlight !== flight || closed) return;
        slot.inFlight = null;
        slot.failures = 0;
        slot.notBefore = 0;
        commit(group.id, topicName, partition, lastOffset + 1);
        pumpSoon(group, topicName, partition);
      },
      nack: () => {
        if (slot.inFlight === flight && !closed) release(group, topicName, partition);
      },
    });
  };

  // A nacked or abandoned batch: the same messages go out again, to whoever owns the partition then.
  const release = (group: Group, topicName: string, partition: number): void => {
    const slot = slotOf(group, topicName, partition);
    slot.replayEnd = slot.inFlight?.lastOffset ?? null;
    slot.inFlight = null;
    slot.failures += 1;
    slot.notBefore = Date.now() + backoffDelay(slot.failures, redelivery);
    pumpSoon(group, topicName, partition);
  };

  const commit = (groupId: string, topicName: string, partition: number, nextOffset: number): void => {
    const topic = topicNamed(topicName);
    const offsets = topic.committed.get(groupId);
    if (offsets) offsets[partition] = nextOffset;
    let low = Infinity;
    for (const groupOffsets of topic.committed.values()) low = Math.min(low, groupOffsets[partition]);
    topic.logs[partition].trimBefore(low);
  };

  const join = (group: Group, member: Member, fromBeginning: boolean): void => {
    for (const topicName of member.topics) {
      const topic = topicNamed(topicName);
      if (!topic.committed.has(group.id)) {
        topic.committed.set(group.id, topic.logs.map((log) => (fromBeginning ? log.start : log.end)));
      }
    }
    group.members.push(member);
    pumpGroup(group);
  };

  const leave = (group: Group, member: Member): void => {
    group.members = group.members.filter((other) => other !== member);
    if (closed) return;
    for (const [topicName, slots] of group.slots) {
      slots.forEach((slot, partition) => {
        if (slot.inFlight?.member === member) release(group, topicName, partition);
      });
    }
    pumpGroup(group);
  };

  return {
    kind: 'memory',

    async publish(topicName: string, value: unknown, publishOptions: PublishOptions = {}): Promise<PublishReceipt> {
      if (closed) throw new BrokerError('broker is closed: publish after close()', { code: 'BROKER_CLOSED' });
      const json = encodeValue(value);
      const topic = topicNamed(topicName);
      const retained = topic.logs.reduce((sum, log) => sum + log.size, 0);
      if (retained >= maxRetained) {
        throw new BrokerError(
          `topic '${topicName}' retains ${retained} messages not yet committed by every consumer group ` +
            `(maxRetainedMessages = ${maxRetained}): consumers are lagging or a group stopped consuming; ` +
            'retry later, or raise maxRetainedMessages',
          { code: 'BROKER_FULL', retriable: true },
        );
      }
      const key = publishOptions.key ?? null;
      const partition = key === null ? topic.roundRobin++ % partitions : partitionForKey(key, partitions);
      const entry = topic.logs[partition].append(key, json, Date.now());
      for (const groupId of topic.committed.keys()) {
        const group = groups.get(groupId);
        if (group) pumpSoon(group, topicName, partition);
      }
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
        const groupId = consumeOptions.groupId;
        const group = groups.get(groupId) ?? { id: groupId, members: [], slots: new Map<string, Slot[]>() };
        groups.set(groupId, group);
        const member: Member = { topics: new Set(topicNames), batchSize, batchMs, subscriber };
        join(group, member, fromBeginning);
        return () => leave(group, member);
      });
    },

    async health(): Promise<BrokerHealth> {
      return closed ? { ok: false, detail: 'closed' } : { ok: true };
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      for (const group of groups.values()) {
        for (const slots of group.slots.values()) for (const slot of slots) clearTimeout(slot.timer);
        for (const member of [...group.members]) member.subscriber.complete();
      }
    },
  };
}

function toMessage(topic: string, partition: number, entry: LogEntry): BrokerMessage {
  const value: unknown = JSON.parse(entry.json);
  return { topic, partition, offset: String(entry.offset), key: entry.key, value, timestamp: entry.timestamp };
}

function requireInteger(field: string, value: number, min: number): void {
  if (!(Number.isSafeInteger(value) && value >= min)) {
    throw new RangeError(`${field} must be an integer ≥ ${min}, got ${String(value)}`);
  }
}
