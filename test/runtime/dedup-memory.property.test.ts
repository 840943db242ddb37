import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DedupMemory } from '../../src/runtime/dedup-memory.ts';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const iso = (s: number) => new Date(T0 + s * 1000).toISOString();

type Op = { kind: 'remember'; channel: string; key: string; at: number } | { kind: 'forget'; at: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('remember' as const), channel: fc.constantFrom('email', 'slack'), key: fc.constantFrom('a', 'b', 'c', 'd', 'e'), at: fc.nat(100) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('forget' as const), at: fc.nat(100) }) },
);

describe('DedupMemory (property)', () => {
  it('never holds more than its capacity, and never answers a send it was not told of, nor one before `since`', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(op, { maxLength: 60 }), fc.nat(100), (capacity, ops, since) => {
        const memory = new DedupMemory(capacity);
        // The model: every send told, per pair.
        const told = new Map<string, { id: string; sentAt: string }[]>();
        ops.forEach((o, i) => {
          if (o.kind === 'forget') {
            memory.forget(iso(o.at));
            return;
          }
          const pair = `${o.channel}/${o.key}`;
          memory.remember(o.channel, o.key, { id: `n${i}`, sentAt: iso(o.at) });
          told.set(pair, [...(told.get(pair) ?? []), { id: `n${i}`, sentAt: iso(o.at) }]);
          expect(memory.size).toBeLessThanOrEqual(capacity);
        });
        for (const channel of ['email', 'slack']) {
          for (const key of ['a', 'b', 'c', 'd', 'e']) {
            const answer = memory.sentSince(channel, key, iso(since));
            // Bounded and forgetful: it may not know, but what it answers is a send it was told of, within the window.
            if (!answer) continue;
            expect(told.get(`${channel}/${key}`)).toContainEqual(answer);
            expect(answer.sentAt >= iso(since)).toBe(true);
          }
        }
      }),
    );
  });

  it('with room enough and nothing forgotten, it answers every newest send within the window', () => {
    fc.assert(
      fc.property(fc.array(op.filter((o) => o.kind === 'remember'), { maxLength: 40 }), fc.nat(100), (ops, since) => {
        const memory = new DedupMemory(100);
        const newest = new Map<string, number>();
        for (const o of ops as Extract<Op, { kind: 'remember' }>[]) {
          memory.remember(o.channel, o.key, { id: 'x', sentAt: iso(o.at) });
          newest.set(`${o.channel}/${o.key}`, Math.max(newest.get(`${o.channel}/${o.key}`) ?? -1, o.at));
        }
        for (const [pair, at] of newest) {
          const [channel, key] = pair.split('/') as [string, string];
          expect(memory.sentSince(channel, key, iso(since)) !== undefined).toBe(at >= since);
        }
      }),
    );
  });

  it('rejects a capacity that is not a positive integer', () => {
    expect(() => new DedupMemory(0)).toThrow(/capacity/);
  });
});
