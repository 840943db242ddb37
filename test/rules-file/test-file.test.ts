import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.ts';
import { parseDuration } from '../../src/rules-file/duration.ts';
import { runTestFile } from '../../src/rules-file/run-tests.ts';
import { parseRulesList } from '../../src/rules-file/rules-list.ts';
import { expandSeries } from '../../src/rules-file/series.ts';
import { parseRuleTestFile } from '../../src/rules-file/test-file.ts';

/** The first issue's path and message of what `fn` throws. */
function issueOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).message;
  }
  throw new Error('did not throw');
}

const file = (rule: string, test: string, extra = '') => `${extra}rules:\n  - ${rule}\ntests:\n  - ${test}\n`;
const RULE = `{ id: A, name: A, device_id: "7", metric: reading, operator: ">", threshold: 50, for_seconds: 60 }`;

describe('rules test files', () => {
  it('reads durations as Prometheus writes them', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('1m')).toBe(60_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('60')).toBeUndefined();
    expect(parseDuration('1 m')).toBeUndefined();
  });

  it("expands promtool's series notation: _, a+bxn, a-bxn, axn, _xn", () => {
    expect(expandSeries('76 30 _ 1+2x3')).toEqual([76, 30, null, 1, 3, 5, 7]);
    expect(expandSeries('10-2x2 5x2 _x2 -1.5')).toEqual([10, 8, 6, 5, 5, 5, null, null, -1.5]);
    expect(() => expandSeries('1 2 x3')).toThrow("'x3'");
  });

  it('parses the rules: list by the POST /rules schema, naming the field of each problem', () => {
    const [rule] = parseRulesList([{ id: 'A', name: 'A', device_id: 7, metric: 'm', operator: '>', threshold: 1 }]);
    expect(rule).toMatchObject({ id: 'A', device_id: '7', for_seconds: 0, clear_threshold: null, severity: 'warning', channels: [], enabled: true });
    expect(issueOf(() => parseRulesList([{ id: 'A', name: 'A', device_id: 7, metric: 'm', operator: '=>', threshold: 1 }]))).toMatch(/^rules\[0\]\.operator: /);
    expect(issueOf(() => parseRulesList([{ name: 'A', device_id: 7, metric: 'm', operator: '>', threshold: 1 }]))).toMatch(/^rules\[0\]\.id: is required/);
    const twice = { id: 'A', name: 'A', device_id: 7, metric: 'm', operator: '>', threshold: 1 };
    expect(issueOf(() => parseRulesList([twice, twice]))).toMatch(/^rules\[1\]\.id: 'A' is used by an earlier rule/);
    expect(issueOf(() => parseRulesList([{ ...twice, clear_threshold: 5 }]))).toMatch(/^rules\[0\]\.clear_threshold: must be at most the threshold/);
    expect(issueOf(() => parseRulesList([{ ...twice, for_seconds: -1 }]))).toMatch(/^rules\[0\]\.for_seconds: /);
    expect(issueOf(() => parseRulesList({}))).toBe('rules: must be a list of rules');
  });

  it('rejects a bad test file naming the field', () => {
    const test = `{ input_series: [ { device_id: "7", metric: reading, values: "1 2" } ], alert_rule_test: [ { eval_time: 1m, rule_id: A, exp_alerts: [] } ] }`;
    expect(() => parseRuleTestFile(file(RULE, test))).not.toThrow();
    expect(issueOf(() => parseRuleTestFile(file(RULE, test, 'evaluation_interval: 60\n')))).toMatch(/^evaluation_interval: must be a duration/);
    expect(issueOf(() => parseRuleTestFile(file(RULE, test.replace('1 2', '1 two'))))).toMatch(/^tests\[0\]\.input_series\[0\]\.values: 'two'/);
    expect(issueOf(() => parseRuleTestFile(file(RULE, test.replace('rule_id: A', 'rule_id: B'))))).toMatch(/^tests\[0\]\.alert_rule_test\[0\]\.rule_id: 'B' is not the id/);
    expect(issueOf(() => parseRuleTestFile(file(RULE, test.replace('eval_time: 1m', 'eval_time: soon'))))).toMatch(/^tests\[0\]\.alert_rule_test\[0\]\.eval_time: 'soon'/);
    expect(issueOf(() => parseRuleTestFile(file(RULE.replace('threshold: 50', 'threshold: hot'), test)))).toMatch(/^rules\[0\]\.threshold: /);
    expect(issueOf(() => parseRuleTestFile('rules: [\n'))).toMatch(/^file: is not valid YAML or JSON/);
    expect(issueOf(() => parseRuleTestFile(file(RULE, test, 'interval: 1m\n')))).toMatch(/^interval: /);
  });

  it('reads JSON as well as YAML', () => {
    const json = JSON.stringify({
      evaluation_interval: '30s',
      rules: [{ id: 'A', name: 'A', device_id: '7', metric: 'reading', operator: '>', threshold: 50 }],
      tests: [{ input_series: [{ device_id: '7', metric: 'reading', values: '60' }], alert_rule_test: [{ eval_time: '0s', rule_id: 'A', exp_alerts: [{ device_id: '7' }] }] }],
    });
    expect(runTestFile(parseRuleTestFile(json))).toEqual([{ name: 'test 1', passed: true, failures: [] }]);
  });
});

describe('rules test runs (interval semantics)', () => {
  /** The firing alerts of A after each evaluation from 0 to 3m, every minute, with `for` and one breach a minute. */
  function firingByMinute(rule: string, values: string): boolean[] {
    const checks = [0, 1, 2, 3].map((m) => `{ eval_time: ${m}m, rule_id: A, exp_alerts: [] }`).join(', ');
    const text = file(rule, `{ input_series: [ { device_id: "7", metric: reading, values: "${values}" } ], alert_rule_test: [ ${checks} ] }`);
    const [outcome] = runTestFile(parseRuleTestFile(text));
    const failed = new Set(outcome!.failures.map((f) => f.eval_time));
    return ['0m', '1m', '2m', '3m'].map((t) => failed.has(t));
  }
  const forRule = (seconds: number) => RULE.replace('for_seconds: 60', `for_seconds: ${seconds}`);
  const keepRule = (seconds: number) => RULE.replace('for_seconds: 60', `keep_firing_for_seconds: ${seconds}`);

  it('a for deadline exactly on an evaluation fires at it; 1 ms after, at the next one; 1 ms before, at it', () => {
    expect(firingByMinute(forRule(60), '76 76 76 76')).toEqual([false, true, true, true]);
    expect(firingByMinute(forRule(60.001), '76 76 76 76')).toEqual([false, false, true, true]);
    expect(firingByMinute(forRule(59.999), '76 76 76 76')).toEqual([false, true, true, true]);
  });

  it('a keep_firing_for deadline exactly on an evaluation resolves at it; 1 ms after, at the next one', () => {
    expect(firingByMinute(keepRule(60), '76 30 30 30')).toEqual([true, true, false, false]);
    expect(firingByMinute(keepRule(60.001), '76 30 30 30')).toEqual([true, true, true, false]);
    expect(firingByMinute(keepRule(59.999), '76 30 30 30')).toEqual([true, true, false, false]);
  });

  it('never fires on a value that the evaluation at the deadline finds cleared', () => {
    expect(firingByMinute(forRule(60), '76 30 76 76')).toEqual([false, false, false, true]);
  });

  it('evaluates against the latest sample at or before the evaluation: a missed sample keeps the last one', () => {
    expect(firingByMinute(forRule(60), '76 _ _ 30')).toEqual([false, true, true, false]);
  });

  it('reports each failure with the test, the eval_time, the rule, what was expected and what fired', () => {
    const text = file(RULE, `{ name: hot, input_series: [ { device_id: "7", metric: reading, values: "76 76" } ], alert_rule_test: [ { eval_time: 1m, rule_id: A, exp_alerts: [] } ] }`);
    expect(runTestFile(parseRuleTestFile(text))).toEqual([
      { name: 'hot', passed: false, failures: [{ eval_time: '1m', rule_id: 'A', expected: [], got: [{ device_id: '7', metric: 'reading' }] }] },
    ]);
  });
});
