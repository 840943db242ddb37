import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { waves } from '../../src/storage/waves.ts';

describe('waves', () => {
  it("puts each key's n-th call in wave n, in call order", () => {
    expect(waves(['a', 'b', 'a', 'c', 'a', 'b'])).toEqual([[0, 1, 3], [2, 5], [4]]);
    expect(waves([])).toEqual([]);
  });

  it('property: every call in exactly one wave, at most one per key a wave, per-key order kept', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', 'b', 'c', 'd')), (keys) => {
        const result = waves(keys);
        expect(result.flat().sort((x, y) => x - y)).toEqual(keys.map((_, i) => i));
        for (const wave of result) expect(new Set(wave.map((i) => keys[i])).size).toBe(wave.length);
        const waveOf = new Map(result.flatMap((wave, w) => wave.map((i) => [i, w] as const)));
        keys.forEach((key, i) => {
          const later = keys.findIndex((k, j) => j > i && k === key);
          if (later >= 0) expect(waveOf.get(later)!).toBeGreaterThan(waveOf.get(i)!);
        });
      }),
    );
  });
});
