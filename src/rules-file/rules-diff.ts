import type { Rule } from '../domain/rule.ts';
import type { FileRule } from './parse-rules.ts';

/** The fields a rules file sets, compared one by one. */
const FIELDS = ['name', 'device_id', 'metric', 'operator', 'threshold', 'for_seconds', 'clear_threshold', 'keep_firing_for_seconds', 'nodata_seconds', 'severity', 'channels', 'enabled'] as const;

/** One field a rules file changes: its stored value and the file's. */
export interface FieldChange {
  field: (typeof FIELDS)[number];
  from: unknown;
  to: unknown;
}

/** What syncing the store to a rules file does: rules to create, to update (with what changes), to delete. */
export interface RulesDiff {
  create: FileRule[];
  update: { rule: FileRule; changes: FieldChange[] }[];
  delete: Rule[];
  unchanged: number;
}

const same = (a: unknown, b: unknown): boolean => (Array.isArray(a) && Array.isArray(b) ? a.length === b.length && a.every((x, i) => x === b[i]) : a === b);

/** The diff from the stored rules to the file's: a rule is matched by id; stored rules absent from the file are deleted. */
export function diffRules(stored: Rule[], wanted: FileRule[]): RulesDiff {
  const byId = new Map(stored.map((rule) => [rule.id, rule]));
  const diff: RulesDiff = { create: [], update: [], delete: [], unchanged: 0 };
  const kept = new Set<string>();
  for (const rule of wanted) {
    kept.add(rule.id);
    const current = byId.get(rule.id);
    if (!current) {
      diff.create.push(rule);
      continue;
    }
    // A plain loop that allocates only for a change: most rules of a re-applied file are unchanged.
    let changes: FieldChange[] | undefined;
    for (const field of FIELDS) if (!same(current[field], rule[field])) (changes ??= []).push({ field, from: current[field], to: rule[field] });
    if (changes) diff.update.push({ rule, changes });
    else diff.unchanged++;
  }
  for (const rule of stored) if (!kept.has(rule.id)) diff.delete.push(rule);
  return diff;
}

/** The lines of the first `limit` items, and how many more there are. */
const capped = <T>(items: T[], limit: number, line: (item: T) => string): string[] =>
  items.length > limit ? [...items.slice(0, limit).map(line), `  … and ${items.length - limit} more`] : items.map(line);

/**
 * The diff for a person: one line per rule (`+` create, `~` update with its changes, `-` delete), at
 * most `limit` of each kind, then the totals.
 */
export function formatDiff(diff: RulesDiff, limit = 100): string {
  const show = (value: unknown) => JSON.stringify(value);
  const lines = [
    ...capped(diff.create, limit, (rule) => `+ ${rule.id}  create (${rule.device_id}/${rule.metric} ${rule.operator} ${rule.threshold})`),
    ...capped(diff.update, limit, ({ rule, changes }) => `~ ${rule.id}  ${changes.map((c) => `${c.field}: ${show(c.from)} → ${show(c.to)}`).join(', ')}`),
    ...capped(diff.delete, limit, (rule) => `- ${rule.id}  delete`),
  ];
  lines.push(`${diff.create.length} to create, ${diff.update.length} to update, ${diff.delete.length} to delete, ${diff.unchanged} unchanged`);
  return lines.join('\n') + '\n';
}
