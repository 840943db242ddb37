import type { PersistedAlert } from '../../actors/alert.ts';
import { ruleInputSchema, ruleIssues, rulePatchSchema } from '../../domain/rule-schema.ts';
import type { Rule } from '../../domain/rule.ts';
import { NotFoundError, ValidationError, type Issue } from '../../errors.ts';
import type { Store } from '../../storage/store.ts';
import type { z } from 'zod';
import type { RuleActors } from './rule-actors.ts';
import { createRuleCache } from './rule-cache.ts';
import { ruleActorId } from './rule-actors.ts';

/** Options of `createRuleService`. */
export interface RuleServiceOptions {
  store: Store;
  actors: RuleActors;
  /** Called with what a stopped rule actor last knew, so an alert it leaves open gets resolved. */
  retire: (last: PersistedAlert | undefined, rule: Rule) => void;
  /** Whether this instance runs the rule (default: every rule); the owner of a rule's device does. */
  owns?: (rule: Rule) => boolean;
  /** Makes `owns` able to answer for these rules (looks up their device's partition). */
  learn?: (rules: Rule[]) => Promise<void>;
  /** Tells the other instances that a rule was created, updated or deleted (so its owner adopts the change at once). */
  changed?: (rule: Pick<Rule, 'id' | 'device_id'>) => Promise<void>;
  /** A full reload of the rules at least this often (default 5 minutes; see `createRuleCache`). */
  reloadEveryMs?: number;
}

/** Rejects a rule whose fields are fine one by one but not together (422, naming the field). */
function check(rule: Pick<Rule, 'operator' | 'threshold' | 'clear_threshold'>): void {
  const issues = ruleIssues(rule);
  if (issues.length > 0) throw new ValidationError(issues);
}

/** A rule of a bulk create rejected, by its index, with its issues' paths under that index. */
type Rejected = { index: number; issues: Issue[] };
type RuleInput = z.output<typeof ruleInputSchema>;

const rejection = (index: number, issues: Issue[]): Rejected => ({
  index,
  issues: issues.map((issue) => ({ ...issue, path: issue.path ? `${index}.${issue.path}` : String(index) })),
});

/** Each item of a bulk create checked on its own (schema, fields together, ids unique within the request). */
function checkEach(items: unknown[]): { valid: { index: number; input: RuleInput }[]; rejected: Rejected[] } {
  const rejected: Rejected[] = [];
  const valid: { index: number; input: RuleInput }[] = [];
  const given = new Set<string>();
  items.forEach((item, index) => {
    const parsed = ruleInputSchema.safeParse(item);
    if (!parsed.success) return void rejected.push(rejection(index, parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }))));
    const { id } = parsed.data;
    const issues = ruleIssues(parsed.data);
    if (id !== undefined && given.has(id)) issues.push({ path: 'id', message: `'${id}' is given twice in this request; ids must be unique` });
    if (issues.length > 0) return void rejected.push(rejection(index, issues));
    if (id !== undefined) given.add(id);
    valid.push({ index, input: parsed.data });
  });
  return { valid, rejected };
}

/** Keeps the rule actors in step with the stored rules. */
function actorSync(actors: RuleActors, retire: RuleServiceOptions['retire'], owns: (rule: Rule) => boolean) {
  /** Brings one rule's actor in line with the stored rule (a rule another instance owns is left to it). */
  function apply(rule: Rule): void {
    const entry = actors.get(rule.id);
    if (!entry && !owns(rule)) return;
    if (!rule.enabled) {
      if (entry) retire(actors.stop(rule.id), entry.rule);
      return;
    }
    if (!entry) {
      actors.start(rule);
      return;
    }
    const previous = entry.rule;
    const { replaced } = actors.update(rule);
    retire(replaced, previous);
  }

  /** One rule's actor brought in line with the store (`rule` undefined: deleted), when it differs. */
  function syncOne(id: string, rule: Rule | undefined): void {
    const entry = actors.get(id);
    if (!rule) {
      if (entry) retire(actors.stop(id), entry.rule);
      return;
    }
    if (!entry ? rule.enabled : entry.rule.updated_at !== rule.updated_at || !rule.enabled) apply(rule);
  }

  /** Reconciles the actors with `rules`, every rule as stored: a rule missing from it is stopped. */
  async function sync(rules: Rule[]): Promise<void> {
    const seen = new Set<string>();
    for (const rule of rules) {
      seen.add(rule.id);
      syncOne(rule.id, rule);
    }
    for (const entry of [...actors.entries()]) {
      if (!seen.has(entry.rule.id)) retire(actors.stop(entry.rule.id), entry.rule);
    }
  }

  return { apply, syncOne, sync };
}

/**
 * Rules in the store, with their actors kept in step: created when enabled, updated in place when
 * the edit allows, stopped (resolving an open alert) when disabled or deleted.
 */
export function createRuleService({ store, actors, retire, owns = () => true, learn, changed, reloadEveryMs }: RuleServiceOptions) {
  const cache = createRuleCache({ rules: store.rules, reloadEveryMs });
  const { apply, syncOne, sync } = actorSync(actors, retire, owns);

  async function stored(rule: Rule): Promise<Rule> {
    await learn?.([rule]);
    apply(rule);
    await changed?.(rule);
    return rule;
  }

  return {
    list: () => store.rules.list(),
    async get(id: string): Promise<Rule> {
      const rule = await store.rules.get(id);
      if (!rule) throw new NotFoundError('rule', id);
      return rule;
    },
    async create(input: z.output<typeof ruleInputSchema>): Promise<Rule> {
      check(input);
      const rule = await store.rules.create(input);
      cache.put(rule);
      return stored(rule);
    },
    /**
     * Many rules at once (`POST /rules` with an array): each is checked on its own, and those that pass
     * are created in one store transaction; the others come back by index with their issues (an id
     * already stored, or given twice, is one).
     */
    async createMany(items: unknown[]): Promise<{ created: Rule[]; rejected: Rejected[] }> {
      const { valid, rejected } = checkEach(items);
      const existing = await Promise.all(valid.map(({ input }) => (input.id === undefined ? undefined : store.rules.get(input.id))));
      const fresh = valid.filter(({ index, input }, i) => {
        if (!existing[i]) return true;
        rejected.push(rejection(index, [{ path: 'id', message: `rule '${input.id}' already exists; change it with PATCH /rules/${input.id}` }]));
        return false;
      });
      const { created } = await store.rules.applyChanges({ create: fresh.map(({ input }) => input) });
      for (const rule of created) {
        cache.put(rule);
        await stored(rule);
      }
      rejected.sort((x, y) => x.index - y.index);
      return { created, rejected };
    },
    async update(id: string, patch: z.output<typeof rulePatchSchema>): Promise<Rule> {
      const current = await store.rules.get(id);
      if (!current) throw new NotFoundError('rule', id);
      check({ ...current, ...patch });
      const rule = await store.rules.update(id, patch);
      if (!rule) throw new NotFoundError('rule', id);
      cache.put(rule);
      return stored(rule);
    },
    async delete(id: string): Promise<void> {
      const entry = actors.get(id);
      const current = changed ? await store.rules.get(id) : undefined;
      await store.snapshots.delete(ruleActorId(id)); // first: a failure between leaves the rule, not a state to resume
      if (!(await store.rules.delete(id))) throw new NotFoundError('rule', id);
      cache.remove(id);
      if (entry) retire(actors.stop(id), entry.rule);
      if (current) await changed?.(current);
    },
    /** Re-reads one rule (another instance changed it) and brings its actor in line. */
    async refresh(id: string): Promise<void> {
      const rule = await store.rules.get(id);
      if (rule) {
        cache.put(rule);
        await learn?.([rule]);
      } else cache.remove(id);
      syncOne(id, rule);
    },
    /** Every rule, from memory unless the store changed behind this instance's back (see `createRuleCache`). */
    cached: () => cache.refresh(),
    /** Every rule as just read from the store by someone else (the start-up): the rules in memory become these very objects. */
    remember: (rules: Rule[]): void => cache.load(rules),
    /** Reconciles the actors with the rules as stored (another process may have edited them). */
    sync,
  };
}

/** The rules of one runtime, with their actors. */
export type RuleService = ReturnType<typeof createRuleService>;
