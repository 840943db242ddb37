/** One stored message of the in-process broker. */
export interface LogEntry {
  offset: number;
  key: string | null;
  /** The value as JSON text, as Kafka keeps bytes: each delivery parses its own copy, so no consumer can mutate another's. */
  json: string;
  /** ISO-8601 time the broker accepted the message. */
  timestamp: string;
  /** The same instant in epoch ms: when the message's batch window opens. */
  appendedAt: number;
}

/** The append-only log of one partition, trimmed from the front once every group has committed past it. */
export interface PartitionLog {
  /** Offset of the oldest retained message (equals `end` when empty). */
  readonly start: number;
  /** Offset the next appended message gets. */
  readonly end: number;
  /** Messages retained. */
  readonly size: number;
  append(key: string | null, json: string, now: number): LogEntry;
  /** Up to `max` messages from `offset` on (never before `start`). */
  read(offset: number, max: number): LogEntry[];
  /** Forgets every message below `offset`. */
  trimBefore(offset: number): void;
}

/** An empty partition log whose first offset is 0. */
export function createPartitionLog(): PartitionLog {
  // Trimming moves `head` instead of shifting the array on every commit; the dead prefix is dropped
  // once it is at least half the array, so a trim costs O(1) amortized even with 100 000 retained.
  let entries: LogEntry[] = [];
  let head = 0;
  let end = 0;
  const size = (): number => entries.length - head;
  return {
    get start() {
      return end - size();
    },
    get end() {
      return end;
    },
    get size() {
      return size();
    },
    append(key, json, now) {
      const entry = { offset: end, key, json, timestamp: new Date(now).toISOString(), appendedAt: now };
      entries.push(entry);
      end += 1;
      return entry;
    },
    read(offset, max) {
      const from = head + Math.max(0, offset - (end - size()));
      return entries.slice(from, from + max);
    },
    trimBefore(offset) {
      head += Math.max(0, Math.min(size(), offset - (end - size())));
      if (head * 2 >= entries.length) {
        entries = entries.slice(head);
        head = 0;
      }
    },
  };
}

/** The partition of a keyed message: FNV-1a of the key's UTF-16 code units, so a key always lands in the same partition. */
export function partitionForKey(key: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i += 1) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % partitions;
}
