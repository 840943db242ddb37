import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { claimWatermark } from '../../src/runtime/claim-watermark.ts';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const iso = (s: number) => new Date(T0 + s * 1000).toISOString();

type Op =
  | { kind: 'claiming' }
  | { kind: 'caughtUp'; nextDue: number | null }
  | { kind: 'retry'; at: number }
  | { kind: 'tick'; by: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('claiming' as const) }),
  fc.record({ kind: fc.constant('caughtUp' as const), nextDue: fc.option(fc.nat(60), { nil: null }) }),
  fc.record({ kind: fc.constant('retry' as const), at: fc.nat(60) }),
  fc.record({ kind: fc.constant('tick' as const), by: fc.nat(10) }),
);

describe('claimWatermark (property)', () => {
  it('holds exactly while the last claim came back short and nothing known pending since that claim began has fallen due', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        let now = 0;
        const watermark = claimWatermark(() => T0 + now * 1000);
        // The model: since the latest claim began, whether it came back short, and every due time learned.
        let short = false;
        let dues: number[] = [];
        expect(watermark.holds()).toBe(false);
        for (const o of ops) {
          if (o.kind === 'claiming') {
            watermark.claiming();
            short = false;
            dues = [];
          } else if (o.kind === 'caughtUp') {
            watermark.caughtUp(o.nextDue === null ? null : iso(o.nextDue));
            short = true;
            if (o.nextDue !== null) dues.push(o.nextDue);
          } else if (o.kind === 'retry') {
            watermark.retryAt(iso(o.at));
            dues.push(o.at);
          } else {
            now += o.by;
          }
          expect(watermark.holds()).toBe(short && dues.every((due) => due > now));
        }
      }),
    );
  });
});
