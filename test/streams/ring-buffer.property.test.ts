import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emptyRing, pushAll, type RingBuffer } from '../../src/streams/ring-buffer.ts';

describe('ring buffer (properties)', () => {
  it('after every push holds exactly the last `capacity` items in order, and dropped = total − kept', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.array(fc.array(fc.integer(), { maxLength: 30 }), { maxLength: 30 }), (capacity, pushes) => {
        let ring: RingBuffer<number> = emptyRing(capacity);
        const all: number[] = [];
        for (const items of pushes) {
          const previous = structuredClone(ring);
          const next = pushAll(ring, items);
          all.push(...items);
          expect(ring).toEqual(previous);
          expect(next.items.length).toBeLessThanOrEqual(capacity);
          expect(next.items).toEqual(all.slice(Math.max(0, all.length - capacity)));
          expect(next.total).toBe(all.length);
          expect(next.dropped).toBe(next.total - next.items.length);
          expect(next.capacity).toBe(capacity);
          ring = next;
        }
      }),
    );
  });
});
