import { BrokerError } from '../../errors.ts';
import { createPartitionLog, partitionForKey, type LogEntry, type PartitionLog } from './memory-partition.ts';

/** One topic of the in-process broker. */
export interface MemoryTopic {
  logs: PartitionLog[];
  roundRobin: number;
  /** Per group that ever consumed the topic, the next offset to deliver in each partition. */
  committed: Map<string, number[]>;
}

/** The topics of the in-process broker, created on first use, each with `partitions` logs. */
export class MemoryTopics {
  private readonly topics = new Map<string, MemoryTopic>();

  constructor(
    private readonly partitions: number,
    private readonly maxRetained: number,
  ) {}

  /** The topic, created empty when it does not exist yet. */
  named(name: string): MemoryTopic {
    let topic = this.topics.get(name);
    if (!topic) {
      topic = { logs: Array.from({ length: this.partitions }, createPartitionLog), roundRobin: 0, committed: new Map() };
      this.topics.set(name, topic);
    }
    return topic;
  }

  /** The topic if it exists, without creating it. */
  existing(name: string): MemoryTopic | undefined {
    return this.topics.get(name);
  }

  /**
   * Appends a message to its partition (by key, else round-robin); rejects with BROKER_FULL when the
   * topic already retains `maxRetained` messages not yet committed by every group.
   */
  append(name: string, key: string | null, json: string): { partition: number; entry: LogEntry } {
    const topic = this.named(name);
    const retained = topic.logs.reduce((sum, log) => sum + log.size, 0);
    if (retained >= this.maxRetained) {
      throw new BrokerError(
        `topic '${name}' retains ${retained} messages not yet committed by every consumer group ` +
          `(maxRetainedMessages = ${this.maxRetained}): consumers are lagging or a group stopped consuming; ` +
          'retry later, or raise maxRetainedMessages',
        { code: 'BROKER_FULL', retriable: true },
      );
    }
    const partition = key === null ? topic.roundRobin++ % this.partitions : partitionForKey(key, this.partitions);
    return { partition, entry: topic.logs[partition].append(key, json, Date.now()) };
  }

  /** Starts the group's offsets at the start (or end) of each partition, unless it has committed before. */
  subscribe(name: string, groupId: string, fromBeginning: boolean): void {
    const topic = this.named(name);
    if (!topic.committed.has(groupId)) {
      topic.committed.set(groupId, topic.logs.map((log) => (fromBeginning ? log.start : log.end)));
    }
  }

  /** Records the group's next offset, then forgets what every group has committed past. */
  commit(groupId: string, name: string, partition: number, nextOffset: number): void {
    const topic = this.named(name);
    const offsets = topic.committed.get(groupId);
    if (offsets) offsets[partition] = nextOffset;
    let low = Infinity;
    for (const groupOffsets of topic.committed.values()) low = Math.min(low, groupOffsets[partition]);
    topic.logs[partition].trimBefore(low);
  }
}
