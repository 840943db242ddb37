import type { AlertStateName } from '../actors/alert.ts';
import type { Rule } from '../domain/rule.ts';
import { asRule } from './rules-list.ts';
import { simulate } from './simulate.ts';
import type { AlertCheck, RuleTest, RuleTestFile } from './test-file.ts';

/** A firing alert as a test sees it. */
export interface FiringAlert {
  device_id: string;
  metric: string;
}

/** A check that did not hold. */
export interface CheckFailure {
  eval_time: string;
  rule_id: string;
  expected: AlertCheck['expected'];
  got: FiringAlert[];
}

/** The outcome of one test. */
export interface TestOutcome {
  name: string;
  passed: boolean;
  failures: CheckFailure[];
}

/** The outcome of every test of one or more files (`--json` prints it). */
export interface TestReport {
  tests: TestOutcome[];
  passed: number;
  failed: number;
}

const matches = (expected: AlertCheck['expected'][number], got: FiringAlert) =>
  (expected.device_id === undefined || expected.device_id === got.device_id) && (expected.metric === undefined || expected.metric === got.metric);

/** Whether the alerts expected and the alerts firing are the same (in any order). */
function same(expected: AlertCheck['expected'], got: FiringAlert[]): boolean {
  if (expected.length !== got.length) return false;
  const left = [...got];
  return expected.every((e) => {
    const i = left.findIndex((g) => matches(e, g));
    return i >= 0 && left.splice(i, 1).length === 1;
  });
}

/** Runs one test from fresh state: evaluations up to its last eval_time, each check against the state after the evaluation at or before its time. */
export function runTest(test: RuleTest, rules: Rule[], evaluationIntervalMs: number): TestOutcome {
  const byId = new Map(rules.map((rule) => [rule.id, rule]));
  const checks = [...test.checks].sort((a, b) => a.evalTimeMs - b.evalTimeMs);
  const failures: CheckFailure[] = [];
  let next = 0;
  let last: ReadonlyMap<string, AlertStateName> = new Map();
  const judge = (upTo: number) => {
    while (next < checks.length && checks[next]!.evalTimeMs < upTo) {
      const check = checks[next++]!;
      const rule = byId.get(check.ruleId)!;
      const state = last.get(check.ruleId);
      const got = state === 'firing' || state === 'clearing' ? [{ device_id: rule.device_id, metric: rule.metric }] : [];
      if (!same(check.expected, got)) failures.push({ eval_time: check.evalTime, rule_id: check.ruleId, expected: check.expected, got });
    }
  };
  simulate({
    rules,
    series: test.series,
    sampleIntervalMs: test.intervalMs,
    evaluationIntervalMs,
    untilMs: checks.at(-1)?.evalTimeMs ?? 0,
    onEvaluation: (at, states) => {
      judge(at);
      last = states;
    },
  });
  judge(Number.POSITIVE_INFINITY);
  return { name: test.name, passed: failures.length === 0, failures };
}

/** Runs every test of a parsed file. */
export function runTestFile(file: RuleTestFile): TestOutcome[] {
  const rules = file.rules.map((rule) => asRule(rule, new Date(0).toISOString()));
  return file.tests.map((test) => runTest(test, rules, file.evaluationIntervalMs));
}
