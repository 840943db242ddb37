import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { timeOrderedId, timeOrderedIds } from '../../src/storage/ids.ts';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const millisecondsOf = (id: string): number => parseInt(id.replaceAll('-', '').slice(0, 12), 16);

describe('timeOrderedId', () => {
  it('makes UUIDv7s that sort in the order they were made, whatever the clock does, and carry its milliseconds', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 1, maxLength: 6000 }), fc.integer({ min: 0, max: 2 ** 47 }), (steps, start) => {
        const next = timeOrderedIds();
        let clock = start;
        let previous = next(clock);
        expect(previous).toMatch(V7);
        expect(millisecondsOf(previous)).toBe(clock);
        for (const step of steps) {
          clock = Math.max(0, clock + step); // forward, standing still (thousands in one millisecond), or back
          const id = next(clock);
          expect(id).toMatch(V7);
          expect(id > previous).toBe(true);
          // It never runs ahead of the clock by more than the ids it borrowed from the next milliseconds.
          expect(millisecondsOf(id)).toBeGreaterThanOrEqual(Math.min(clock, millisecondsOf(previous)));
          previous = id;
        }
      }),
      { numRuns: 50 },
    );
  });

  it('makes ids that sort in the order the process made them', () => {
    const ids = Array.from({ length: 10_000 }, () => timeOrderedId());
    expect([...ids].sort()).toEqual(ids);
    expect(Math.abs(millisecondsOf(ids[0]!) - Date.now())).toBeLessThan(60_000);
  });

  it('keeps ids asked for within one millisecond distinct and in order, with random tails', () => {
    const next = timeOrderedIds();
    const ids = Array.from({ length: 200_000 }, () => next(2 ** 46));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);
    // The last 48 bits are random: among 1000 ids, a repeated tail would be a one-in-a-billion event.
    expect(new Set(ids.slice(0, 1_000).map((id) => id.slice(-12))).size).toBe(1_000);
  });
});
