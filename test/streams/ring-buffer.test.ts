import { describe, expect, it } from 'vitest';
import { emptyRing, pushAll } from '../../src/streams/ring-buffer.ts';

describe('ring buffer', () => {
  it.each([0, -1, 2.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects capacity %s with a RangeError naming capacity', (capacity) => {
    expect(() => emptyRing(capacity)).toThrow(RangeError);
    expect(() => emptyRing(capacity)).toThrow(/capacity/);
  });

  it('starts empty', () => {
    expect(emptyRing(3)).toEqual({ capacity: 3, items: [], total: 0, dropped: 0 });
  });

  it('keeps the last capacity items, oldest first, counting the ones dropped', () => {
    const ring = pushAll(pushAll(emptyRing<string>(3), ['a', 'b']), ['c', 'd', 'e']);
    expect(ring).toEqual({ capacity: 3, items: ['c', 'd', 'e'], total: 5, dropped: 2 });
  });

  it('returns a new ring and leaves the old one and the pushed array untouched', () => {
    const before = pushAll(emptyRing<number>(2), [1]);
    const pushed = [2, 3];
    const after = pushAll(before, pushed);
    expect(after).not.toBe(before);
    expect(before).toEqual({ capacity: 2, items: [1], total: 1, dropped: 0 });
    expect(pushed).toEqual([2, 3]);
    expect(after.items).toEqual([2, 3]);
  });

  it('returns the same ring when nothing is pushed, so XState sees no change', () => {
    const ring = pushAll(emptyRing<number>(2), [1]);
    expect(pushAll(ring, [])).toBe(ring);
  });

  it('is plain JSON data that survives a snapshot round trip', () => {
    const ring = pushAll(emptyRing<{ id: number }>(2), [{ id: 1 }, { id: 2 }, { id: 3 }]);
    const restored: unknown = JSON.parse(JSON.stringify(ring));
    expect(restored).toEqual(ring);
    expect(pushAll(restored as typeof ring, [{ id: 4 }]).items).toEqual([{ id: 3 }, { id: 4 }]);
  });
});
