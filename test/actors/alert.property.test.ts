import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AlertStateName } from '../../src/actors/alert.ts';
import { OPERATORS, type Operator, type Rule } from '../../src/domain/rule.ts';
import { breaches, clears } from '../../src/domain/threshold.ts';
import { harness, rule as baseRule, type Written } from './alert.fixtures.ts';

type Step = { kind: 'reading'; value: number } | { kind: 'evaluate'; value: number } | { kind: 'advance'; ms: number } | { kind: 'restart' };

/** The reference model: the rules of the README in the plainest code, on the same virtual time. */
class Model {
  state: AlertStateName = 'ok';
  value: number | null = null;
  lastReadingAt: number | null = null;
  since: number;
  pendingUntil: number | null = null;
  clearUntil: number | null = null;
  written: Written[] = [];

  constructor(readonly rule: Rule, public now: number) {
    this.since = now;
  }

  #nodataDue(): number | null {
    const n = this.rule.nodata_seconds;
    return n == null ? null : (this.lastReadingAt ?? this.since) + n * 1000;
  }

  /** The next timer: [time, what]; in pending, silence wins a tie with the breach deadline. */
  #next(): [number, 'nodata' | 'fire' | 'resolve'] | null {
    const due = this.#nodataDue();
    if (this.state === 'ok') return due === null ? null : [due, 'nodata'];
    if (this.state === 'pending') return due !== null && due <= this.pendingUntil! ? [due, 'nodata'] : [this.pendingUntil!, 'fire'];
    if (this.state === 'clearing') return [this.clearUntil!, 'resolve'];
    return null;
  }

  #fire(): void {
    this.state = 'firing';
    this.since = this.now;
    this.pendingUntil = null;
    this.written.push({ kind: 'fire', value: this.value!, at: this.now });
  }

  #resolve(): void {
    this.state = 'ok';
    this.since = this.now;
    this.clearUntil = null;
    this.written.push({ kind: 'resolve', value: this.value!, at: this.now });
  }

  value_(value: number, isReading: boolean): void {
    if (this.state === 'nodata' && !isReading) return;
    this.value = value;
    if (isReading) this.lastReadingAt = this.now;
    const { rule } = this;
    switch (this.state) {
      case 'ok':
      case 'nodata':
        if (breaches(rule, value)) {
          if (rule.for_seconds <= 0) this.#fire();
          else {
            this.state = 'pending';
            this.since = this.now;
            this.pendingUntil = this.now + rule.for_seconds * 1000;
          }
        } else this.state = 'ok';
        break;
      case 'pending':
        if (!breaches(rule, value)) {
          this.state = 'ok';
          this.since = this.now;
          this.pendingUntil = null;
        }
        break;
      case 'firing':
        if (clears(rule, value)) {
          if (rule.keep_firing_for_seconds <= 0) this.#resolve();
          else {
            this.state = 'clearing';
            this.clearUntil = this.now + rule.keep_firing_for_seconds * 1000;
          }
        }
        break;
      case 'clearing':
        if (!clears(rule, value)) {
          this.state = 'firing';
          this.clearUntil = null;
        }
        break;
    }
  }

  advance(ms: number): void {
    const target = this.now + ms;
    for (let next = this.#next(); next && next[0] <= target; next = this.#next()) {
      this.now = Math.max(this.now, next[0]);
      if (next[1] === 'fire') this.#fire();
      else if (next[1] === 'resolve') this.#resolve();
      else {
        this.state = 'nodata';
        this.since = this.now;
        this.pendingUntil = null;
      }
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
  { weight: 1, arbitrary: valueArb.map((value) => ({ kind: 'evaluate' as const, value })) },
  { weight: 4, arbitrary: fc.constantFrom(0, 500, 1000, 2000, 3000, 5000, 12000).map((ms) => ({ kind: 'advance' as const, ms })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
);

describe('alert machine (model-based, virtual clock)', () => {
  it('matches the reference model step by step, restarts included, and keeps its invariants', () => {
    fc.assert(
      fc.property(ruleArb, fc.array(stepArb, { minLength: 1, maxLength: 40 }), (r, steps) => {
        const h = harness(r, 1_000_000);
        const model = new Model(r, 1_000_000);
        for (const step of steps) {
          if (step.kind === 'reading') {
            h.reading(step.value);
            model.value_(step.value, true);
          } else if (step.kind === 'evaluate') {
            h.evaluate(step.value);
            model.value_(step.value, false);
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
      { numRuns: 400 },
    );
  });
});
