import type { Rule } from '../../domain/rule.ts';
import type { RuleRepository, RulesFingerprint } from '../../storage/store.ts';

/** Options of `createRuleCache`. */
export interface RuleCacheOptions {
  rules: Pick<RuleRepository, 'list' | 'fingerprint'>;
  /** A full reload at least this often, whatever the fingerprint says (default 5 minutes). */
  reloadEveryMs?: number;
  now?: () => number;
}

/** What `refresh` found: every rule, oldest first, and whether they were read from the store this time. */
export interface RefreshedRules {
  rules: Rule[];
  reloaded: boolean;
}

/**
 * Every stored rule, kept in memory so that an interval cycle does not read the whole table: this
 * instance's own changes are applied as they are made (`put`, `remove`); a change made elsewhere
 * (another instance, `vigil rules apply` on the same database) shows in the table's fingerprint,
 * which each `refresh` compares with the copy's, one cheap query, and reloads on a difference.
 * A full reload every `reloadEveryMs` catches what a fingerprint cannot (two edits within one
 * millisecond's `updated_at`).
 */
export function createRuleCache({ rules: store, reloadEveryMs = 300_000, now = Date.now }: RuleCacheOptions) {
  let byId = new Map<string, Rule>();
  let ordered: Rule[] | undefined;
  let loadedAt: number | undefined;

  const list = (): Rule[] => (ordered ??= [...byId.values()]);

  function fingerprint(): RulesFingerprint {
    let updated: string | null = null;
    for (const rule of byId.values()) if (updated === null || rule.updated_at > updated) updated = rule.updated_at;
    return { count: byId.size, updated };
  }

  function load(all: Rule[]): void {
    const held = byId;
    byId = new Map();
    // A rule read again unchanged keeps the object already held, which the rule's actor entry holds
    // too: one copy of each rule in memory, not one per reload (about 0.3 KB a rule).
    for (const rule of all) {
      const mine = held.get(rule.id);
      byId.set(rule.id, mine && sameRule(mine, rule) ? mine : rule);
    }
    ordered = undefined;
    loadedAt = now();
  }

  return {
    /** Whether the copy was loaded (until then `put` and `remove` are ignored: the first refresh reads everything). */
    get loaded(): boolean {
      return loadedAt !== undefined;
    },
    /** Replaces the copy with rules just read from the store (start-up reads them anyway). */
    load,
    /** Records a rule this instance just created or edited. */
    put(rule: Rule): void {
      if (loadedAt === undefined) return;
      const known = byId.has(rule.id);
      byId.set(rule.id, rule);
      // A new rule is the newest: appending keeps the creation order; an edit keeps its place.
      if (ordered && !known) ordered.push(rule);
      else if (ordered) ordered = undefined;
    },
    /** Records a rule this instance just deleted. */
    remove(id: string): void {
      if (byId.delete(id)) ordered = undefined;
    },
    /** Every rule: from memory when the store's fingerprint matches the copy's, else read anew. */
    async refresh(): Promise<RefreshedRules> {
      if (loadedAt !== undefined && now() - loadedAt < reloadEveryMs) {
        const stored = await store.fingerprint();
        const mine = fingerprint();
        if (stored.count === mine.count && stored.updated === mine.updated) return { rules: list(), reloaded: false };
      }
      load(await store.list());
      return { rules: list(), reloaded: true };
    },
  };
}

/** Whether two reads of a rule hold the same fields. */
export function sameRule(a: Rule, b: Rule): boolean {
  const keys = Object.keys(a) as (keyof Rule)[];
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => (key === 'channels' ? sameList(a.channels, b.channels) : a[key] === b[key]));
}

const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((item, i) => item === b[i]);

/** The rules of one runtime, in memory. */
export type RuleCache = ReturnType<typeof createRuleCache>;
