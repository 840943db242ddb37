import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AlertStateName } from '../../src/actors/alert.ts';
import { OPERATORS, type Operator, type Rule } from '../../src/domain/rule.ts';
import { breaches, clears } from '../../src/domain/threshold.ts';
import { harness, rule as baseRule, type Written } from './alert.fixtures.ts';

type Step = { kind: 'reading'; value: number } | { kind: 'evaluate' } | { kind: 'advance'; ms: number } | { kind: 'restart' };

/**
 * The reference model of reactive evaluation, written from the semantics: every reading is an
 * evaluation at its own time; an interval evaluation and each deadline (for, keep_firing_for, nodata)
 * evaluate the latest reading again at their time. At an evaluation at t: silent (nodata_seconds
 * without a reading) in ok or pending → nodata; ok/nodata breaching → pending (active_at = t), firing
 * at once when t − active_at ≥ for; pending not breaching → ok; firing cleared → stays while
 * t − keep_since < keep_firing_for (keep_since = first cleared evaluation), else resolves.
 */
class Model {
  state: AlertStateName = 'ok';
  value: number | null = null;
  lastTs: number | null = null;
  since: number;
  activeAt: number | null = null;
  keepSince: number | null = null;
  written: Written[] = [];

  constructor(readonly rule: Rule, public now: number) {
    this.since = now;
  }

  #silent(t: number): boolean {
    const n = this.rule.nodata_seconds;
    return n != null && t - (this.lastTs ?? this.since) >= n * 1000;
  }

  evaluate(t: number): void {
    const { rule, value } = this;
    const breach = value !== null && breaches(rule, value);
    const cleared = value !== null && clears(rule, value);
    const silent = this.#silent(t);
    const to = (state: AlertStateName) => {
      this.state = state;
      this.since = t;
    };
    if ((this.state === 'ok' || this.state === 'pending') && silent) return to('nodata');
    // Only a reading young enough leaves nodata: with none at all, the silence goes on.
    if (this.state === 'nodata' && (this.lastTs === null || silent)) return;
    if (this.state === 'ok' || this.state === 'nodata') {
      if (!breach) return this.state === 'nodata' ? to('ok') : undefined;
      this.activeAt = t;
      to('pending');
    }
    if (this.state === 'pending') {
      if (!breach) return to('ok');
      if (t - this.activeAt! >= rule.for_seconds * 1000) {
        to('firing');
        this.written.push({ kind: 'fire', value: value!, at: t });
      }
      return;
    }
    if (this.state === 'firing' || this.state === 'clearing') {
      if (!cleared) {
        this.keepSince = null;
        return to('firing');
      }
      this.keepSince ??= t;
      if (t - this.keepSince < rule.keep_firing_for_seconds * 1000) return void (this.state = 'clearing');
      this.keepSince = null;
      to('ok');
      this.written.push({ kind: 'resolve', value: value!, at: t });
    }
  }

  reading(value: number): void {
    this.value = value;
    this.lastTs = this.now;
    this.evaluate(this.now);
  }

  #deadline(): number | null {
    const n = this.rule.nodata_seconds;
    const nodata = n == null ? null : (this.lastTs ?? this.since) + n * 1000;
    if (this.state === 'ok') return nodata;
    if (this.state === 'pending') return Math.min(nodata ?? Infinity, this.activeAt! + this.rule.for_seconds * 1000);
    if (this.state === 'clearing') return this.keepSince! + this.rule.keep_firing_for_seconds * 1000;
    return null;
  }

  advance(ms: number): void {
    const target = this.now + ms;
    for (let due = this.#deadline(); due !== null && due <= target; due = this.#deadline()) {
      this.now = Math.max(this.now, due);
      this.evaluate(this.now);
    }
    this.now = target;
  }
}

/** A rule around threshold 50 whose clear threshold, when set, lies on the resolving side. */
const ruleArb = fc
  .record({
    operator: fc.constantFrom<Operator>(...OPERATORS),
    hysteresis: fc.constantFrom(0, 0, 5),
    for_seconds: fc.constantFrom(0, 0, 1, 5),
    keep_firing_for_seconds: fc.constantFrom(0, 0, 2),
    nodata_seconds: fc.constantFrom<number | null>(null, null, 3, 10),
  })
  .map(({ operator, hysteresis, ...times }) => {
    const sign = operator === '>' || operator === '>=' ? -1 : operator === '<' || operator === '<=' ? 1 : 0;
    const clear = hysteresis === 0 || sign === 0 ? null : 50 + sign * hysteresis;
    return baseRule({ operator, threshold: 50, clear_threshold: clear, ...times });
  });

/** Values on and around both thresholds, and far off. */
const valueArb = fc.oneof(fc.constantFrom(44, 45, 45.5, 49, 49.999, 50, 50.001, 51, 55, 56, 0, 100), fc.integer({ min: 40, max: 60 }));

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: valueArb.map((value) => ({ kind: 'reading' as const, value })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'evaluate' as const }) },
  { weight: 4, arbitrary: fc.constantFrom(0, 500, 1000, 2000, 3000, 5000, 12000).map((ms) => ({ kind: 'advance' as const, ms })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
);

describe('alert machine, reactive (model-based, virtual clock)', () => {
  it('matches the reference model step by step, restarts included, and keeps its invariants', () => {
    fc.assert(
      fc.property(ruleArb, fc.array(stepArb, { minLength: 1, maxLength: 40 }), (r, steps) => {
        const h = harness(r, 1_000_000);
        const model = new Model(r, 1_000_000);
        for (const step of steps) {
          if (step.kind === 'reading') {
            h.reading(step.value);
            model.reading(step.value);
          } else if (step.kind === 'evaluate') {
            h.evaluate();
            model.evaluate(model.now);
          } else if (step.kind === 'advance') {
            h.advance(step.ms);
            model.advance(step.ms);
          } else h.restart();
          expect(h.state()).toBe(model.state);
          expect(h.written).toEqual(model.written);
        }
        // Invariants, whatever the model says: fires only on a breaching value, resolves only past the
        // clear threshold, fire and resolve alternate, so at most one event is ever open.
        h.written.forEach((w, i) => {
          expect(w.kind).toBe(i % 2 === 0 ? 'fire' : 'resolve');
          if (w.kind === 'fire') expect(breaches(r, w.value)).toBe(true);
          else expect(clears(r, w.value)).toBe(true);
        });
      }),
      { numRuns: 1_000 },
    );
  });
});
