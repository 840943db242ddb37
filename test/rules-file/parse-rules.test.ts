import { describe, expect, it } from 'vitest';
import type { Rule } from '../../src/domain/rule.ts';
import { ValidationError } from '../../src/errors.ts';
import { parseRulesFile } from '../../src/rules-file/parse-rules.ts';
import { diffRules, formatDiff } from '../../src/rules-file/rules-diff.ts';

const item = (id: string, extra: Record<string, unknown> = {}) => ({ id, name: id, device_id: 'd1', metric: 'cpu', operator: '>', threshold: 90, ...extra });

/** The issues a document is rejected with. */
function issuesOf(doc: unknown): { path: string; message: string }[] {
  try {
    parseRulesFile(doc);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).issues;
  }
  throw new Error('expected the document to be rejected');
}

describe('parseRulesFile', () => {
  it('takes each rule as POST /rules does, defaults applied', () => {
    expect(parseRulesFile({ rules: [item('a'), item('b', { device_id: 7, severity: 'error' })] })).toEqual([
      { ...item('a'), for_seconds: 0, clear_threshold: null, keep_firing_for_seconds: 0, nodata_seconds: null, severity: 'warning', channels: [], enabled: true },
      expect.objectContaining({ id: 'b', device_id: '7', severity: 'error' }),
    ]);
    expect(parseRulesFile({ rules: [] })).toEqual([]);
  });

  it('names every bad field of every rule at once', () => {
    const issues = issuesOf({ rules: [item('a', { threshold: 'hot' }), { name: 'no id', device_id: 'd', metric: 'm', operator: '>', threshold: 1 }, item('a'), item('c', { clear_threshold: 95 }), item('d', { colour: 'red' })] });
    expect(issues.map((i) => i.path)).toEqual(['rules[0].threshold', 'rules[1].id', 'rules[3].clear_threshold', 'rules[4].colour']);
    expect(issues[1]!.message).toMatch(/required/);
  });

  it('a repeated id is rejected at its second place, naming the first', () => {
    expect(issuesOf({ rules: [item('a'), item('a')] })).toEqual([{ path: 'rules[1].id', message: expect.stringMatching(/earlier rule/) }]);
  });

  it('rejects a document that is not a mapping with a rules list', () => {
    for (const doc of [null, 'rules', [item('a')], {}, { rules: { a: 1 } }]) expect(issuesOf(doc)[0]!.path).toBe('rules');
  });
});

describe('diffRules', () => {
  const stored = (id: string, extra: Partial<Rule> = {}): Rule =>
    ({ ...parseRulesFile({ rules: [item(id)] })[0]!, created_at: 't', updated_at: 't', ...extra }) as Rule;

  it('creates what is new, updates what differs (naming the fields), deletes what the file lacks', () => {
    const wanted = parseRulesFile({ rules: [item('keep'), item('edit', { threshold: 95, channels: ['email'] }), item('new')] });
    const diff = diffRules([stored('keep'), stored('edit'), stored('gone')], wanted);
    expect(diff.create.map((r) => r.id)).toEqual(['new']);
    expect(diff.update).toEqual([{ rule: wanted[1], changes: [{ field: 'threshold', from: 90, to: 95 }, { field: 'channels', from: [], to: ['email'] }] }]);
    expect(diff.delete.map((r) => r.id)).toEqual(['gone']);
    expect(diff.unchanged).toBe(1);
    const text = formatDiff(diff);
    expect(text).toContain('+ new');
    expect(text).toContain('~ edit  threshold: 90 → 95, channels: [] → ["email"]');
    expect(text).toContain('- gone  delete');
    expect(text).toContain('1 to create, 1 to update, 1 to delete, 1 unchanged');
  });

  it('caps the lines of each kind', () => {
    const diff = diffRules([], parseRulesFile({ rules: Array.from({ length: 5 }, (_, i) => item(`r${i}`)) }));
    expect(formatDiff(diff, 2).split('\n').filter((l) => l.startsWith('+'))).toHaveLength(2);
    expect(formatDiff(diff, 2)).toContain('… and 3 more');
  });
});
