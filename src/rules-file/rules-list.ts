import { z } from 'zod';
import { ruleInputSchema, ruleIssues } from '../domain/rule-schema.ts';
import type { Rule } from '../domain/rule.ts';
import { ValidationError, type Issue } from '../errors.ts';
import { pathOf, zodIssues } from './issues.ts';

/** A rule of a rules file: what `POST /rules` takes, with its `id` required. */
export type FileRule = z.output<typeof ruleInputSchema> & { id: string };

/**
 * Parses and validates the `rules:` list of a rules file, each rule by the schema of `POST /rules`
 * (same defaults, same cross-field checks) with `id` required and unique. Throws one
 * ValidationError listing every issue, each naming its field (`rules[2].threshold`).
 */
export function parseRulesList(value: unknown, path: readonly PropertyKey[] = ['rules']): FileRule[] {
  if (!Array.isArray(value)) throw new ValidationError([{ path: pathOf(path), message: 'must be a list of rules' }]);
  const issues: Issue[] = [];
  const rules: FileRule[] = [];
  const seen = new Set<string>();
  value.forEach((raw, index) => {
    const at = [...path, index];
    const parsed = ruleInputSchema.safeParse(raw);
    if (!parsed.success) return void issues.push(...zodIssues(parsed.error, at));
    const rule = parsed.data;
    if (rule.id === undefined) return void issues.push({ path: pathOf([...at, 'id']), message: 'is required in a rules file (name each rule)' });
    if (seen.has(rule.id)) return void issues.push({ path: pathOf([...at, 'id']), message: `'${rule.id}' is used by an earlier rule; ids must be unique` });
    seen.add(rule.id);
    const cross = ruleIssues(rule).map((issue) => ({ ...issue, path: pathOf([...at, issue.path]) }));
    if (cross.length > 0) return void issues.push(...cross);
    rules.push({ ...rule, id: rule.id });
  });
  if (issues.length > 0) throw new ValidationError(issues);
  return rules;
}

/** A rule of a rules file as stored, stamped with `at` (ISO time). */
export function asRule(rule: FileRule, at: string): Rule {
  return { ...rule, created_at: at, updated_at: at };
}
