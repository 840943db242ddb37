import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { latestWriter } from '../../src/runtime/latest-writer.ts';

type Step = { kind: 'set'; key: string } | { kind: 'finish'; key: string; ok: boolean };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), key: fc.constantFrom('a', 'b') }),
  fc.record({ kind: fc.constant('finish' as const), key: fc.constantFrom('a', 'b'), ok: fc.boolean() }),
);

/** Lets the writer's loops run on after a write settled. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('latestWriter (property)', () => {
  it('never overlaps writes of a key, never writes an older value after a newer one, writes the latest value set, and reports each refused write', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 40 }), async (steps) => {
        const inFlight = new Map<string, { resolve(): void; reject(error: Error): void }>();
        const started: Record<string, number[]> = { a: [], b: [] };
        const lastSet: Record<string, number | undefined> = {};
        let failures = 0;
        const writer = latestWriter<string, number>(
          (key, value) =>
            new Promise<void>((resolve, reject) => {
              expect(inFlight.has(key), `a second write of ${key} while one runs`).toBe(false);
              inFlight.set(key, { resolve, reject });
              started[key]!.push(value);
            }).finally(() => inFlight.delete(key)),
          () => failures++,
        );
        let value = 0;
        let refused = 0;
        const check = () => {
          for (const key of ['a', 'b']) {
            const values = started[key]!;
            // Each value written is newer than the one before it.
            for (let i = 1; i < values.length; i++) expect(values[i]!).toBeGreaterThan(values[i - 1]!);
          }
        };
        for (const s of steps) {
          if (s.kind === 'set') writer.set(s.key, (lastSet[s.key] = ++value));
          else if (s.ok) inFlight.get(s.key)?.resolve();
          else if (inFlight.has(s.key)) {
            refused++;
            inFlight.get(s.key)!.reject(new Error('locked'));
          }
          await turn();
          check();
        }
        // Let every write end: the latest value of each key is the last one written.
        const drained = writer.drain();
        while (inFlight.size > 0) {
          for (const write of inFlight.values()) write.resolve();
          await turn();
          check();
        }
        await drained;
        for (const key of ['a', 'b']) expect(started[key]!.at(-1)).toBe(lastSet[key]);
        expect(failures).toBe(refused);
      }),
    );
  });
});
