import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay, type BackoffOptions } from '../../src/streams/backoff.ts';

const options = fc
  .record({
    initialMs: fc.nat({ max: 10_000 }),
    extraMs: fc.nat({ max: 100_000 }),
    factor: fc.double({ min: 1, max: 10, noNaN: true }),
    jitter: fc.oneof(fc.constantFrom<'none' | 'full'>('none', 'full'), fc.double({ min: 0, max: 1, noNaN: true })),
    random: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
  })
  .map(({ initialMs, extraMs, random, ...rest }): BackoffOptions => ({ ...rest, initialMs, maxMs: initialMs + extraMs, random: () => random }));

describe('backoffDelay (properties)', () => {
  it('is always a number in [0, maxMs]', () => {
    fc.assert(
      fc.property(options, fc.integer({ min: 1, max: 2_000 }), (opts, attempt) => {
        const delay = backoffDelay(attempt, opts);
        expect(Number.isFinite(delay)).toBe(true);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(opts.maxMs);
      }),
    );
  });

  it('without jitter, never decreases with the attempt and, once at maxMs, stays there', () => {
    fc.assert(
      fc.property(options, fc.integer({ min: 1, max: 200 }), (opts, attempts) => {
        const delays = Array.from({ length: attempts }, (_, i) => backoffDelay(i + 1, { ...opts, jitter: 'none' }));
        expect(delays[0]).toBe(Math.min(opts.initialMs, opts.maxMs));
        for (let i = 1; i < delays.length; i += 1) {
          expect(delays[i]).toBeGreaterThanOrEqual(delays[i - 1]);
          if (delays[i - 1] === opts.maxMs) expect(delays[i]).toBe(opts.maxMs);
        }
      }),
    );
  });

  it('with a jitter ratio r, stays within [delay × (1 − r), delay] of the unjittered delay', () => {
    fc.assert(
      fc.property(options, fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 1, max: 60 }), (opts, ratio, attempt) => {
        const base = backoffDelay(attempt, { ...opts, jitter: 'none' });
        const delay = backoffDelay(attempt, { ...opts, jitter: ratio });
        expect(delay).toBeGreaterThanOrEqual(base * (1 - ratio) - 1e-9);
        expect(delay).toBeLessThanOrEqual(base);
      }),
    );
  });
});
