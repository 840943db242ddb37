import { randomUUID } from 'node:crypto';
import type { Rule, RuleInput, RulePatch } from '../../domain/rule.ts';
import { StoreError } from '../../errors.ts';
import type { RuleChanges, RuleRepository } from '../store.ts';
import type { SqliteConnection } from './connection.ts';
import { sqliteCode, type Synchronous } from './guard.ts';
import { now } from '../timestamps.ts';

type RuleRow = Omit<Rule, 'channels' | 'enabled'> & { channels: string; enabled: number };

const COLUMNS = `id, name, device_id, metric, operator, threshold, for_seconds, clear_threshold,
  keep_firing_for_seconds, nodata_seconds, severity, channels, enabled, created_at, updated_at`;
const INSERT = `INSERT INTO rules (${COLUMNS}) VALUES (@id, @name, @device_id, @metric, @operator, @threshold,
  @for_seconds, @clear_threshold, @keep_firing_for_seconds, @nodata_seconds, @severity, @channels, @enabled,
  @created_at, @updated_at)`;
const UPDATE = `UPDATE rules SET name = @name, device_id = @device_id, metric = @metric, operator = @operator,
  threshold = @threshold, for_seconds = @for_seconds, clear_threshold = @clear_threshold,
  keep_firing_for_seconds = @keep_firing_for_seconds, nodata_seconds = @nodata_seconds, severity = @severity,
  channels = @channels, enabled = @enabled, updated_at = @updated_at WHERE id = @id`;

/** The fields a caller may set, so that stray properties never reach the row. */
function editable(source: RuleInput | RulePatch): RulePatch {
  const fields: RulePatch = {
    name: source.name,
    device_id: source.device_id,
    metric: source.metric,
    operator: source.operator,
    threshold: source.threshold,
    for_seconds: source.for_seconds,
    clear_threshold: source.clear_threshold,
    keep_firing_for_seconds: source.keep_firing_for_seconds,
    nodata_seconds: source.nodata_seconds,
    severity: source.severity,
    channels: source.channels,
    enabled: source.enabled,
  };
  for (const key of Object.keys(fields) as (keyof RulePatch)[]) if (fields[key] === undefined) delete fields[key];
  return fields;
}

const toRow = (rule: Rule): RuleRow => ({ ...rule, channels: JSON.stringify(rule.channels), enabled: rule.enabled ? 1 : 0 });
const fromRow = (row: RuleRow): Rule => ({
  ...row,
  channels: JSON.parse(row.channels) as string[],
  enabled: row.enabled === 1,
});

/** Alert rules in SQLite. */
export function sqliteRules({ db, statement }: SqliteConnection): Synchronous<RuleRepository> {
  const get = (id: string): Rule | undefined => {
    const row = statement(`SELECT ${COLUMNS} FROM rules WHERE id = ?`).get(id) as RuleRow | undefined;
    return row && fromRow(row);
  };
  const update = db.transaction((id: string, patch: RulePatch): Rule | undefined => {
    const current = get(id);
    if (!current) return undefined;
    const next: Rule = { ...current, ...editable(patch), updated_at: now() };
    statement(UPDATE).run(toRow(next));
    return next;
  });
  const create = (input: RuleInput, at: string): Rule => {
    const rule = { id: input.id ?? randomUUID(), ...editable(input), created_at: at, updated_at: at } as Rule;
    try {
      statement(INSERT).run(toRow(rule));
    } catch (error) {
      if (sqliteCode(error) !== 'SQLITE_CONSTRAINT_PRIMARYKEY') throw error;
      throw new StoreError(`rule '${rule.id}' already exists`, { code: 'CONFLICT', cause: error });
    }
    return rule;
  };
  const applyChanges = db.transaction((changes: RuleChanges) => {
    const at = now();
    const created = (changes.create ?? []).map((input) => create(input, at));
    const updated: Rule[] = [];
    for (const { id, patch } of changes.update ?? []) {
      const current = get(id);
      if (!current) continue;
      const next: Rule = { ...current, ...editable(patch), updated_at: at };
      statement(UPDATE).run(toRow(next));
      updated.push(next);
    }
    const remove = statement('DELETE FROM rules WHERE id = ?');
    let deleted = 0;
    for (const id of changes.delete ?? []) deleted += remove.run(id).changes;
    return { created, updated, deleted };
  });
  return {
    list() {
      return (statement(`SELECT ${COLUMNS} FROM rules ORDER BY created_at, rowid`).all() as RuleRow[]).map(fromRow);
    },
    get,
    create(input) {
      return create(input, now());
    },
    applyChanges(changes) {
      return applyChanges.immediate(changes);
    },
    update(id, patch) {
      return update.immediate(id, patch);
    },
    delete(id) {
      return statement('DELETE FROM rules WHERE id = ?').run(id).changes > 0;
    },
    fingerprint() {
      return statement('SELECT count(*) AS count, max(updated_at) AS updated FROM rules').get() as { count: number; updated: string | null };
    },
  };
}
