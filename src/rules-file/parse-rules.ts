import type { z } from 'zod';
import { ruleInputSchema, ruleIssues } from '../domain/rule-schema.ts';
import { ValidationError, type Issue } from '../errors.ts';

/** A rule as a rules file gives it: what `POST /rules` takes, defaults applied, `id` required. */
export type FileRule = z.output<typeof ruleInputSchema> & { id: string };

/**
 * The `rules:` list of a rules file (the `vigil test rules` format, parsed from YAML or JSON), each
 * rule checked as `POST /rules` checks it, with `id` required and unique. Throws one ValidationError
 * listing every problem, each naming its field (`rules.3.threshold`).
 */
export function parseRulesList(doc: unknown): FileRule[] {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ValidationError([{ path: 'rules', message: 'the file must be a mapping with a `rules:` list' }]);
  }
  const list = (doc as { rules?: unknown }).rules;
  if (!Array.isArray(list)) throw new ValidationError([{ path: 'rules', message: 'must be a list of rules (`rules:` followed by `- id: …` items)' }]);
  const issues: Issue[] = [];
  const rules: FileRule[] = [];
  const seen = new Map<string, number>();
  list.forEach((item, i) => {
    const prefix = `rules.${i}`;
    const parsed = ruleInputSchema.safeParse(item);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) issues.push({ path: [prefix, ...issue.path.map(String)].join('.'), message: issue.message });
      return;
    }
    const rule = parsed.data;
    if (rule.id === undefined) {
      issues.push({ path: `${prefix}.id`, message: 'is required in a rules file (it says which stored rule the entry is)' });
      return;
    }
    const first = seen.get(rule.id);
    if (first !== undefined) {
      issues.push({ path: `${prefix}.id`, message: `'${rule.id}' is also the id of rules.${first}; ids must be unique` });
      return;
    }
    seen.set(rule.id, i);
    const combined = ruleIssues(rule).map((issue) => ({ ...issue, path: `${prefix}.${issue.path}` }));
    if (combined.length > 0) issues.push(...combined);
    else rules.push(rule as FileRule);
  });
  if (issues.length > 0) throw new ValidationError(issues);
  return rules;
}
