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
const UPDATE = `UPDATE rules SET name = @name, device_id = @device_id, metric = @metric, operator = @operator,
  threshold = @threshold, for_seconds = @for_seconds, clear_threshold = @clear_threshold,
  keep_firing_for_seconds = @keep_firing_for_seconds, nodata_seconds = @nodata_seconds, severity = @severity,
  channels = @channels, enabled = @enabled, updated_at = @updated_at WHERE id = @id`;

// Many rules per INSERT: 512 rows of 15 parameters stay well under SQLite's 32766 host parameters.
const ROWS_PER_INSERT = 512;
const insertRows = (rows: number) => `INSERT INTO rules (${COLUMNS}) VALUES ${Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`;

/** A rule's parameters for `insertRows`, in COLUMNS order. */
const rowValues = (r: Rule): unknown[] => [
  r.id, r.name, r.device_id, r.metric, r.operator, r.threshold, r.for_seconds, r.clear_threshold, r.keep_firing_for_seconds,
  r.nodata_seconds, r.severity, JSON.stringify(r.channels), r.enabled ? 1 : 0, r.created_at, r.updated_at,
];

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

/** A new rule from what a caller gave, created at `at`. */
const newRule = (input: RuleInput, at: string): Rule => ({ id: input.id ?? randomUUID(), ...editable(input), created_at: at, updated_at: at }) as Rule;

type RawRow = [string, string, string, string, Rule['operator'], number, number, number | null, number, number | null, Rule['severity'], string, number, string, string];
/** A row of `SELECT ${COLUMNS}` read as an array (better-sqlite3 builds arrays in half the time of objects). */
const fromRawRow = (r: RawRow): Rule => ({
  id: r[0], name: r[1], device_id: r[2], metric: r[3], operator: r[4], threshold: r[5], for_seconds: r[6], clear_threshold: r[7],
  keep_firing_for_seconds: r[8], nodata_seconds: r[9], severity: r[10], channels: JSON.parse(r[11]) as string[], enabled: r[12] === 1,
  created_at: r[13], updated_at: r[14],
});

/** Inserts rules in statements of ROWS_PER_INSERT rows, then of halving sizes: few statement shapes, all cached. */
function batchInsert(statement: SqliteConnection['statement'], get: (id: string) => Rule | undefined): (rules: Rule[]) => void {
  /** The id a failed insert of `rules` collides on: one stored already (earlier chunks included), or one it repeats. */
  const collision = (rules: Rule[]): string => {
    const seen = new Set<string>();
    for (const { id } of rules) {
      if (seen.has(id) || get(id)) return id;
      seen.add(id);
    }
    return rules[0]!.id;
  };
  return (rules: Rule[]): void => {
    for (let from = 0, size = ROWS_PER_INSERT; from < rules.length; ) {
      while (size > rules.length - from) size >>= 1;
      const chunk = rules.slice(from, from + size);
      try {
        statement(insertRows(size)).run(chunk.flatMap(rowValues));
      } catch (error) {
        if (sqliteCode(error) !== 'SQLITE_CONSTRAINT_PRIMARYKEY') throw error;
        throw new StoreError(`rule '${collision(chunk)}' already exists`, { code: 'CONFLICT', cause: error });
      }
      from += size;
    }
  };
}

/** Alert rules in SQLite. */
export function sqliteRules({ db, statement }: SqliteConnection): Synchronous<RuleRepository> {
  const get = (id: string): Rule | undefined => {
    const row = statement(`SELECT ${COLUMNS} FROM rules WHERE id = ?`).raw(true).get(id) as RawRow | undefined;
    return row && fromRawRow(row);
  };
  const update = db.transaction((id: string, patch: RulePatch): Rule | undefined => {
    const current = get(id);
    if (!current) return undefined;
    const next: Rule = { ...current, ...editable(patch), updated_at: now() };
    statement(UPDATE).run(toRow(next));
    return next;
  });
  const insertAll = batchInsert(statement, get);
  const applyChanges = db.transaction((changes: RuleChanges) => {
    const at = now();
    const created = (changes.create ?? []).map((input) => newRule(input, at));
    insertAll(created);
    const updated: Rule[] = [];
    for (const { id, patch } of changes.update ?? []) {
      const current = get(id);
      if (!current) continue;
      const next: Rule = { ...current, ...editable(patch), updated_at: at };
      statement(UPDATE).run(toRow(next));
      updated.push(next);
    }
    const ids = changes.delete ?? [];
    // One statement for any number of ids, handed over as one JSON array.
    const deleted = ids.length > 0 ? statement('DELETE FROM rules WHERE id IN (SELECT value FROM json_each(?))').run(JSON.stringify(ids)).changes : 0;
    return { created, updated, deleted };
  });
  return {
    list() {
      // Rows as arrays: better-sqlite3 builds them in half the time of objects (100k rules: ~0.6 s less).
      return (statement(`SELECT ${COLUMNS} FROM rules ORDER BY created_at, rowid`).raw(true).all() as RawRow[]).map(fromRawRow);
    },
    get,
    create(input) {
      const rule = newRule(input, now());
      insertAll([rule]);
      return rule;
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
