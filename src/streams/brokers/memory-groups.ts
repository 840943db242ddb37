import type { Subscriber } from 'rxjs';
import { backoffDelay, type BackoffOptions } from '../backoff.ts';
import type { Batch, BrokerMessage } from '../broker.ts';
import type { LogEntry } from './memory-partition.ts';
import type { MemoryTopics } from './memory-topics.ts';

/** One subscription to the in-process broker: a member of its consumer group. */
export interface Member {
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

/**
 * The consumer groups of the in-process broker: which member owns which partition, which batch is in
 * flight, and when the next one goes out. Deliveries always run in a later microtask or timer, never
 * inside publish, ack or subscribe.
 */
export class MemoryGroups {
  private readonly groups = new Map<string, Group>();
  private closed = false;

  constructor(
    private readonly topics: MemoryTopics,
    private readonly partitions: number,
    private readonly redelivery: Partial<BackoffOptions>,
  ) {}

  /** Adds `member` to its group and starts delivering; returns the teardown that leaves the group. */
  join(groupId: string, member: Member, fromBeginning: boolean): () => void {
    const group = this.groups.get(groupId) ?? { id: groupId, members: [], slots: new Map<string, Slot[]>() };
    this.groups.set(groupId, group);
    for (const topicName of member.topics) this.topics.subscribe(topicName, groupId, fromBeginning);
    group.members.push(member);
    this.pumpGroup(group);
    return () => this.leave(group, member);
  }

  /** A message landed in the partition: every group that consumes the topic may deliver it. */
  published(topicName: string, partition: number): void {
    for (const groupId of this.topics.existing(topicName)?.committed.keys() ?? []) {
      const group = this.groups.get(groupId);
      if (group) this.pumpSoon(group, topicName, partition);
    }
  }

  /** Stops every timer and completes every member's stream. */
  close(): void {
    this.closed = true;
    for (const group of this.groups.values()) {
      for (const slots of group.slots.values()) for (const slot of slots) clearTimeout(slot.timer);
      for (const member of [...group.members]) member.subscriber.complete();
    }
  }

  private leave(group: Group, member: Member): void {
    group.members = group.members.filter((other) => other !== member);
    if (this.closed) return;
    for (const [topicName, slots] of group.slots) {
      slots.forEach((slot, partition) => {
        if (slot.inFlight?.member === member) this.release(group, topicName, partition);
      });
    }
    this.pumpGroup(group);
  }

  private slotOf(group: Group, topicName: string, partition: number): Slot {
    let slots = group.slots.get(topicName);
    if (!slots) {
      slots = Array.from({ length: this.partitions }, () => ({ inFlight: null, timer: undefined, failures: 0, notBefore: 0, replayEnd: null }));
      group.slots.set(topicName, slots);
    }
    return slots[partition];
  }

  private ownerOf(group: Group, topicName: string, partition: number): Member | undefined {
    const candidates = group.members.filter((member) => member.topics.has(topicName));
    return candidates[partition % candidates.length];
  }

  private pumpSoon(group: Group, topicName: string, partition: number): void {
    queueMicrotask(() => this.pump(group, topicName, partition));
  }

  private pumpGroup(group: Group): void {
    for (const topicName of new Set(group.members.flatMap((member) => [...member.topics]))) {
      for (let partition = 0; partition < this.partitions; partition += 1) this.pumpSoon(group, topicName, partition);
    }
  }

  /** Delivers the partition's next batch once it is full or its wait is over, and no backoff holds it back. */
  private pump(group: Group, topicName: string, partition: number): void {
    const slot = this.slotOf(group, topicName, partition);
    const owner = this.ownerOf(group, topicName, partition);
    const committed = this.topics.existing(topicName)?.committed.get(group.id);
    if (this.closed || slot.inFlight || !owner || !committed) return;
    const offset = committed[partition];
    const replayEnd = slot.replayEnd !== null && slot.replayEnd >= offset ? slot.replayEnd : null;
    const max = replayEnd === null ? owner.batchSize : Math.min(owner.batchSize, replayEnd - offset + 1);
    const pending = this.topics.named(topicName).logs[partition].read(offset, max);
    if (pending.length === 0) return;

    const batchClosesAt = pending.length >= max ? 0 : pending[0].appendedAt + owner.batchMs(topicName);
    const readyAt = Math.max(batchClosesAt, slot.notBefore);
    const now = Date.now();
    clearTimeout(slot.timer);
    slot.timer = undefined;
    if (now < readyAt) {
      slot.timer = setTimeout(() => this.pump(group, topicName, partition), readyAt - now);
      return;
    }
    this.deliver(group, topicName, partition, owner, pending);
  }

  private deliver(group: Group, topicName: string, partition: number, owner: Member, entries: LogEntry[]): void {
    const slot = this.slotOf(group, topicName, partition);
    const lastOffset = entries[entries.length - 1].offset;
    const flight = { member: owner, lastOffset };
    slot.inFlight = flight;
    slot.replayEnd = null;
    owner.subscriber.next({
      topic: topicName,
      partition,
      messages: entries.map((entry) => toMessage(topicName, partition, entry)),
      ack: () => {
        if (slot.inFlight !== flight || this.closed) return;
        slot.inFlight = null;
        slot.failures = 0;
        slot.notBefore = 0;
        this.topics.commit(group.id, topicName, partition, lastOffset + 1);
        this.pumpSoon(group, topicName, partition);
      },
      nack: () => {
        if (slot.inFlight === flight && !this.closed) this.release(group, topicName, partition);
      },
    });
  }

  /** A nacked or abandoned batch: the same messages go out again, to whoever owns the partition then. */
  private release(group: Group, topicName: string, partition: number): void {
    const slot = this.slotOf(group, topicName, partition);
    slot.replayEnd = slot.inFlight?.lastOffset ?? null;
    slot.inFlight = null;
    slot.failures += 1;
    slot.notBefore = Date.now() + backoffDelay(slot.failures, this.redelivery);
    this.pumpSoon(group, topicName, partition);
  }
}

function toMessage(topic: string, partition: number, entry: LogEntry): BrokerMessage {
  const value: unknown = JSON.parse(entry.json);
  return { topic, partition, offset: String(entry.offset), key: entry.key, value, timestamp: entry.timestamp };
}
