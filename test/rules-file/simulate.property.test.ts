import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AlertStateName } from '../../src/actors/alert.ts';
import { OPERATORS, type Operator, type Rule } from '../../src/domain/rule.ts';
import { compare } from '../../src/domain/threshold.ts';
import { simulate, type SimulatedWrite } from '../../src/rules-file/simulate.ts';
import type { InputSeries } from '../../src/rules-file/test-file.ts';

type PromState = 'inactive' | 'pending' | 'firing';

/**
 * The reference model, written from the semantics of Prometheus's alerting rules (not from Vigil's
 * code): at an evaluation at t, against the latest sample at or before t (none: the condition is false),
 * condition true: inactive → pending with active_at = t; pending → firing when t − active_at ≥ for;
 * keep_since cleared. Condition false: pending → inactive; firing stays while keep_firing_for > 0 and
 * t − keep_since < keep_firing_for (keep_since = the first false evaluation), else resolves.
 */
class Prometheus {
  state: PromState = 'inactive';
  activeAt = 0;
  keepSince: number | null = null;

  constructor(readonly rule: Rule) {}

  evaluate(t: number, value: number | undefined, written: SimulatedWrite[]): void {
    const { rule } = this;
    const condition = value !== undefined && compare(value, rule.operator, rule.threshold);
    if (condition) {
      this.keepSince = null;
      if (this.state === 'inactive') {
        this.state = 'pending';
        this.activeAt = t;
      }
      if (this.state === 'pending' && t - this.activeAt >= Math.round(rule.for_seconds * 1000)) {
        this.state = 'firing';
        written.push({ kind: 'fire', ruleId: rule.id, value: value!, at: t });
      }
      return;
    }
    if (this.state === 'pending') this.state = 'inactive';
    if (this.state !== 'firing') return;
    const keep = Math.round(rule.keep_firing_for_seconds * 1000);
    if (keep > 0) {
      this.keepSince ??= t;
      if (t - this.keepSince < keep) return;
    }
    this.state = 'inactive';
    this.keepSince = null;
    written.push({ kind: 'resolve', ruleId: rule.id, value: value ?? Number.NaN, at: t });
  }
}

const asProm = (state: AlertStateName | undefined): PromState =>
  state === 'pending' ? 'pending' : state === 'firing' || state === 'clearing' ? 'firing' : 'inactive';

/** The latest sample of a series at or before t. */
function latestAt(series: InputSeries, intervalMs: number, t: number): number | undefined {
  for (let k = Math.min(series.values.length - 1, Math.floor(t / intervalMs)); k >= 0; k--) {
    const v = series.values[k];
    if (v !== null && v !== undefined) return v;
  }
  return undefined;
}

const EVALUATION_INTERVALS = [1_000, 15_000, 60_000];
/** A duration on, 1 ms before or 1 ms after a multiple of the evaluation interval (or 0). */
const aroundEvaluations = (interval: number) =>
  fc.tuple(fc.integer({ min: 0, max: 3 }), fc.constantFrom(-1, 0, 0, 1)).map(([k, d]) => Math.max(0, k * interval + d) / 1000);

const scenarioArb = fc.constantFrom(...EVALUATION_INTERVALS).chain((evaluation) =>
  fc.record({
    evaluation: fc.constant(evaluation),
    sample: fc.constantFrom(evaluation, evaluation / 2, evaluation * 2, Math.round(evaluation * 0.7), evaluation + 1, evaluation - 1),
    rules: fc.array(
      fc.record({
        operator: fc.constantFrom<Operator>(...OPERATORS),
        for_seconds: aroundEvaluations(evaluation),
        keep_firing_for_seconds: fc.oneof(fc.constant(0), aroundEvaluations(evaluation)),
        clearAtThreshold: fc.boolean(),
        series: fc.integer({ min: 0, max: 1 }),
      }),
      { minLength: 1, maxLength: 3 },
    ),
    series: fc.array(fc.array(fc.option(fc.constantFrom(0, 49, 50, 51, 100), { freq: 5 }), { minLength: 1, maxLength: 24 }), { minLength: 2, maxLength: 2 }),
    evaluations: fc.integer({ min: 1, max: 24 }),
  }),
);

describe('vigil test rules engine (model-based: Prometheus semantics in interval mode)', () => {
  it('has the states of Prometheus at every evaluation, and fires and resolves at the same evaluations', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const rules: Rule[] = s.rules.map((r, i) => ({
          id: `r${i}`,
          name: `r${i}`,
          device_id: `d${r.series}`,
          metric: 'm',
          operator: r.operator,
          threshold: 50,
          clear_threshold: r.clearAtThreshold ? 50 : null,
          for_seconds: r.for_seconds,
          keep_firing_for_seconds: r.keep_firing_for_seconds,
          nodata_seconds: null,
          severity: 'warning',
          channels: [],
          enabled: true,
          created_at: '',
          updated_at: '',
        }));
        const series: InputSeries[] = s.series.map((values, i) => ({ device_id: `d${i}`, metric: 'm', values }));
        const models = rules.map((rule) => new Prometheus(rule));
        const expected: SimulatedWrite[] = [];
        const mismatches: string[] = [];
        const written = simulate({
          rules,
          series,
          sampleIntervalMs: s.sample,
          evaluationIntervalMs: s.evaluation,
          untilMs: s.evaluations * s.evaluation,
          onEvaluation: (at, states) => {
            for (const model of models) {
              model.evaluate(at, latestAt(series[Number(model.rule.device_id.slice(1))]!, s.sample, at), expected);
              const got = asProm(states.get(model.rule.id));
              if (got !== model.state) mismatches.push(`${model.rule.id} at ${at}: ${got}, Prometheus ${model.state}`);
            }
          },
        });
        expect(mismatches).toEqual([]);
        // Rules are evaluated in series order, not rule order: compare each evaluation's writes as a set.
        const order = (a: SimulatedWrite, b: SimulatedWrite) => a.at - b.at || a.ruleId.localeCompare(b.ruleId);
        expect([...written].sort(order)).toEqual(expected.sort(order));
      }),
      { numRuns: 1_000 },
    );
  });
});
