import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLaneSlots } from '../../src/runtime/lane-slots.ts';

describe('createLaneSlots (property)', () => {
  it('holds at most the limit per lane, serves waiters first come first served, and frees every slot', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.record({ lane: fc.constantFrom('email', 'webhook'), releaseAfter: fc.nat(3) }), { minLength: 1, maxLength: 30 }),
        async (limit, requests) => {
          const slots = createLaneSlots(() => limit);
          const granted: Record<string, number[]> = { email: [], webhook: [] };
          const holders = requests.map(async ({ lane, releaseAfter }, i) => {
            const release = await slots.acquire(lane);
            granted[lane]!.push(i);
            expect(slots.held()[lane]).toBeLessThanOrEqual(limit);
            for (let t = 0; t < releaseAfter; t++) await Promise.resolve();
            release();
            release(); // a second release is a no-op
          });
          await Promise.all(holders);
          for (const lane of ['email', 'webhook']) {
            const asked = requests.flatMap((r, i) => (r.lane === lane ? [i] : []));
            expect(granted[lane]).toEqual(asked);
          }
          expect(slots.held()).toEqual({});
        },
      ),
    );
  });
});
