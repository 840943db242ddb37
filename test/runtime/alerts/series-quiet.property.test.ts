import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { copyQuiet, quietInOk, staysQuiet, type QuietCopy } from '../../../src/actors/alert-evaluation.ts';
import { OPERATORS, type Rule } from '../../../src/domain/rule.ts';
import { createLogger } from '../../../src/runtime/logger.ts';
import { ActorRegistry } from '../../../src/runtime/registry.ts';
import { createRuleActors, type RuleActors } from '../../../src/runtime/alerts/rule-actors.ts';
import { recordingMachine, rule } from '../../actors/alert.fixtures.ts';

const T0 = 1_000_000;
const SERIES = ['a', 'b'] as const;

type Step =
  | { kind: 'reading'; series: 'a' | 'b'; value: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'edit'; rule: number; threshold: number; nodata: boolean; series: 'a' | 'b' }
  | { kind: 'interval' };

/** Rules 0 and 1 watch series `a` (so it has two rules while both stay there), rule 2 watches `b`. */
const rulesOf = (fors: number[]): Rule[] =>
  fors.map((for_seconds, i) => rule({ id: `r${i}`, device_id: 'd', metric: i < 2 ? 'a' : 'b', threshold: 80, for_seconds, clear_threshold: 70 }));

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('reading' as const), series: fc.constantFrom(...SERIES), value: fc.constantFrom(50, 75, 85, 95) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 6_000 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('edit' as const),
      rule: fc.integer({ min: 0, max: 2 }),
      threshold: fc.constantFrom(60, 80, 90),
      nodata: fc.boolean(),
      series: fc.constantFrom(...SERIES),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('interval' as const) }) },
);

const copyOf = ({ quietOperator, quietThreshold, quietValue, quietReadingAt }: QuietCopy): QuietCopy => ({ quietOperator, quietThreshold, quietValue, quietReadingAt });

/**
 * The invariant of a route's quiet check: set only while its series has one rule, in `ok`, with no
 * nodata watch, and then a copy of what that rule's own quiet check reads (its snapshot's context,
 * or its entry while it is as it started).
 */
function expectQuietSound(actors: RuleActors): void {
  for (const series of SERIES) {
    const route = actors.route('d', series);
    if (!route || !route.quiet) continue;
    expect(route.entries).toHaveLength(1);
    const entry = route.entries[0]!;
    const snapshot = entry.current;
    const read = snapshot ? snapshot.context : entry;
    if (snapshot) expect([snapshot.status, snapshot.value]).toEqual(['active', 'ok']);
    expect(read.rule.nodata_seconds).toBeNull();
    expect(copyOf(route)).toEqual({ quietOperator: read.rule.operator, quietThreshold: read.rule.threshold, quietValue: read.value, quietReadingAt: read.lastReadingAt });
  }
}

/**
 * The same script through two sets of rule actors: one fed by `deliverToSeries` (readings judged at
 * the route while its rule is quiet), one by `deliver` to each rule of the series with the route's
 * quiet check cleared first (every reading reaches the rule). After every step, the invariant above
 * holds, and every rule is in the same state with the same context and the same intents so far.
 */
function lockstep(fors: number[], steps: Step[]): void {
  const clock = new SimulatedClock();
  clock.set(T0);
  const sides = [[], []].map((intents: unknown[]) => ({
    intents,
    actors: createRuleActors({ registry: new ActorRegistry(), logger: createLogger('silent'), machine: recordingMachine(intents), now: () => clock.now(), clock }),
  }));
  const rules = rulesOf(fors);
  for (const side of sides) for (const r of rules) side.actors.start(r);
  const latest = new Map<string, { value: number; ts: number }>();
  try {
    for (const s of steps) {
      const t = clock.now();
      if (s.kind === 'advance') clock.set(t + s.ms);
      else if (s.kind === 'edit') {
        const edited = { ...rules[s.rule]!, threshold: s.threshold, nodata_seconds: s.nodata ? 5 : null, metric: s.series };
        rules[s.rule] = edited;
        for (const side of sides) side.actors.update(edited);
      } else if (s.kind === 'interval') {
        const readings = [...latest].map(([metric, r]) => ({ device_id: 'd', metric, value: r.value, ts: new Date(r.ts).toISOString() }));
        for (const side of sides) side.actors.evaluate(readings);
      } else {
        latest.set(s.series, { value: s.value, ts: t });
        const event = { type: 'EVALUATE', at: t, now: t, value: s.value, ts: t } as const;
        const [fast, slow] = sides;
        const route = fast!.actors.route('d', s.series);
        if (route) fast!.actors.deliverToSeries(route, event, { errors: 0, lastError: null });
        const slowRoute = slow!.actors.route('d', s.series);
        if (slowRoute) {
          slowRoute.quiet = false;
          for (const entry of slowRoute.entries) expect(slow!.actors.deliver(entry, event)).toBeNull();
        }
      }
      expectQuietSound(sides[0]!.actors);
      const states = sides.map(({ actors, intents }) =>
        JSON.stringify([rules.map((r) => { const { value, context } = actors.get(r.id)!.snapshot(); return [value, context]; }), intents]),
      );
      expect(states[0]).toEqual(states[1]);
    }
  } finally {
    for (const side of sides) side.actors.stopAll();
  }
}

describe('staysQuiet', () => {
  it('answers as quietInOk for a rule without a nodata watch, from a copy of what quietInOk reads', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...OPERATORS),
        fc.constantFrom(70, 80),
        fc.option(fc.constantFrom(60, 80, 90), { nil: null }),
        fc.option(fc.constantFrom(T0 - 1, T0, T0 + 1), { nil: null }),
        fc.option(fc.constantFrom(60, 80, 90), { nil: null }),
        fc.option(fc.constantFrom(T0 - 1, T0, T0 + 1), { nil: null }),
        (operator, threshold, value, lastReadingAt, eventValue, ts) => {
          const context = { rule: rule({ operator, threshold }), value, lastReadingAt, since: T0, evaluatedAt: T0 };
          const event = { type: 'EVALUATE', at: T0 + 1, now: T0 + 1, value: eventValue, ts } as const;
          const copy = { quietOperator: '==', quietThreshold: 0, quietValue: null, quietReadingAt: null } as QuietCopy;
          copyQuiet(copy, context);
          expect(staysQuiet(copy, event)).toBe(quietInOk(context, event));
        },
      ),
    );
  });
});

describe("a series judges a reading from its route while its one rule is quiet in `ok`", () => {
  it('moves every rule as a delivery to each rule would, through readings, edits, clock steps and interval evaluations', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(0, 3), { minLength: 3, maxLength: 3 }), fc.array(step, { maxLength: 50 }), (fors, steps) => lockstep(fors, steps)),
      { numRuns: 300 },
    );
  });

  it('is set by an ignored reading and skips the rule on the next one, and a breach still reaches the rule', () => {
    const actors = createRuleActors({ registry: new ActorRegistry(), logger: createLogger('silent'), machine: recordingMachine([]), now: () => T0 });
    const entry = actors.start(rule({ id: 'lone', device_id: 'd', metric: 'b', threshold: 80 }));
    const route = actors.route('d', 'b')!;
    const evaluate = (value: number, at: number) => actors.deliverToSeries(route, { type: 'EVALUATE', at, now: at, value, ts: at }, { errors: 0, lastError: null });
    expect(route.quiet).toBe(false);
    evaluate(50, T0 + 1);
    expect(route.quiet).toBe(true);
    expect(copyOf(route)).toEqual({ quietOperator: '>', quietThreshold: 80, quietValue: null, quietReadingAt: null });
    let reached = 0;
    const advance = entry.advance.bind(entry);
    entry.advance = (event) => (reached++, advance(event));
    evaluate(60, T0 + 2);
    expect(reached).toBe(0);
    evaluate(95, T0 + 3);
    expect(reached).toBe(1);
    expect(route.quiet).toBe(false);
    expect(entry.current?.value).toEqual({ firing: 'active' });
    actors.stopAll();
  });
});
