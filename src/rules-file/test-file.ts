import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ValidationError } from '../errors.ts';
import { pathOf, zodIssues } from './issues.ts';
import { parseDuration } from './duration.ts';
import { parseRulesList, type FileRule } from './rules-list.ts';
import { expandSeries } from './series.ts';

/** A duration field: `30s`, `1m`, `2h` (`min` the least it may be, in ms). */
const duration = (min: number) =>
  z.string({ error: 'must be a duration such as 30s, 1m or 2h' }).transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined || !Number.isInteger(ms) || ms < min) {
      ctx.addIssue({ code: 'custom', message: `'${text}' must be a duration of ${min > 0 ? 'at least 1ms' : '0s or more'} in whole milliseconds, such as 30s, 1m or 2h` });
      return z.NEVER;
    }
    return ms;
  });

const deviceId = z.union([z.string().trim().min(1), z.number().finite()]).transform(String);

const seriesSchema = z
  .object({
    device_id: deviceId,
    metric: z.string().trim().min(1).default('value'),
    values: z.union([z.string(), z.number()]).transform((text, ctx) => {
      try {
        return expandSeries(String(text));
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
  })
  .strict();

/** An expected alert: the labels it must carry (a rule watches one series, so at most one fires). */
const expectedAlertSchema = z.object({ device_id: deviceId.optional(), metric: z.string().optional() }).strict();

const checkSchema = z
  .object({
    eval_time: duration(0),
    rule_id: z.string().min(1),
    exp_alerts: z.array(expectedAlertSchema),
  })
  .strict();

const testSchema = z
  .object({
    name: z.string().optional(),
    interval: duration(1).optional(),
    input_series: z.array(seriesSchema),
    alert_rule_test: z.array(checkSchema).min(1, 'must list at least one check (eval_time, rule_id, exp_alerts)'),
  })
  .strict();

const fileSchema = z
  .object({
    evaluation_interval: duration(1).default(60_000),
    rules: z.unknown(),
    tests: z.array(z.unknown()).min(1, 'must list at least one test'),
  })
  .strict();

/** One input series: a (device, metric) and its samples, slot k at k × the test's interval (null: none). */
export interface InputSeries {
  device_id: string;
  metric: string;
  values: (number | null)[];
}

/** One check: the firing alerts of `ruleId` after the evaluation at `evalTimeMs`. */
export interface AlertCheck {
  evalTime: string;
  evalTimeMs: number;
  ruleId: string;
  expected: { device_id?: string; metric?: string }[];
}

/** One test of a rules file. */
export interface RuleTest {
  name: string;
  intervalMs: number;
  series: InputSeries[];
  checks: AlertCheck[];
}

/** A rules test file, validated. */
export interface RuleTestFile {
  evaluationIntervalMs: number;
  rules: FileRule[];
  tests: RuleTest[];
}

/**
 * Parses a rules test file (YAML, or JSON, which YAML reads as well): `evaluation_interval`, the
 * `rules:` list (as `POST /rules` takes them, ids required) and `tests:`. Throws a ValidationError
 * naming the field (`tests[0].input_series[1].values`) on anything it cannot take.
 */
export function parseRuleTestFile(text: string): RuleTestFile {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new ValidationError([{ path: 'file', message: `is not valid YAML or JSON: ${(error as Error).message.split('\n')[0]}` }]);
  }
  const file = fileSchema.safeParse(document ?? {});
  if (!file.success) throw new ValidationError(zodIssues(file.error));
  const rules = parseRulesList(file.data.rules);
  const ruleIds = new Set(rules.map((rule) => rule.id));
  const tests = file.data.tests.map((raw, index): RuleTest => {
    const parsed = testSchema.safeParse(raw);
    if (!parsed.success) throw new ValidationError(zodIssues(parsed.error, ['tests', index]));
    const test = parsed.data;
    test.alert_rule_test.forEach((check, j) => {
      if (!ruleIds.has(check.rule_id)) {
        throw new ValidationError([{ path: pathOf(['tests', index, 'alert_rule_test', j, 'rule_id']), message: `'${check.rule_id}' is not the id of a rule in rules:` }]);
      }
    });
    const raws = (raw as { alert_rule_test: { eval_time: string }[] }).alert_rule_test;
    return {
      name: test.name ?? `test ${index + 1}`,
      intervalMs: test.interval ?? file.data.evaluation_interval,
      series: test.input_series,
      checks: test.alert_rule_test.map((check, j) => ({ evalTime: raws[j]!.eval_time, evalTimeMs: check.eval_time, ruleId: check.rule_id, expected: check.exp_alerts })),
    };
  });
  return { evaluationIntervalMs: file.data.evaluation_interval, rules, tests };
}
