/**
 * A bounded buffer of the last `capacity` items, as plain JSON data so it can live in XState
 * context and in persisted snapshots. Treat it as immutable: `pushAll` returns a new ring.
 */
export type RingBuffer<T> = {
  capacity: number;
  /** The kept items, oldest first. */
  items: T[];
  /** Items ever pushed. */
  total: number;
  /** Items pushed out by newer ones: always total − items.length. */
  dropped: number;
};

/** An empty ring holding at most `capacity` items. */
export function emptyRing<T>(capacity: number): RingBuffer<T> {
  if (!(Number.isSafeInteger(capacity) && capacity >= 1)) {
    throw new RangeError(`capacity must be a positive integer, got ${String(capacity)}`);
  }
  return { capacity, items: [], total: 0, dropped: 0 };
}

/** A new ring with `items` appended, keeping only the last `capacity` items in arrival order. */
export function pushAll<T>(ring: RingBuffer<T>, items: readonly T[]): RingBuffer<T> {
  if (items.length === 0) return ring;
  const { capacity } = ring;
  // Slice the incoming items first so a huge push never copies more than `capacity` of them.
  const incoming = items.length > capacity ? items.slice(items.length - capacity) : items;
  const kept = [...ring.items, ...incoming];
  const next = kept.length > capacity ? kept.slice(kept.length - capacity) : kept;
  const total = ring.total + items.length;
  return { capacity, items: next, total, dropped: total - next.length };
}
