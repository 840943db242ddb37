import type { PersistedAlert } from '../../actors/alert.ts';
import { ruleInputSchema, ruleIssues, rulePatchSchema } from '../../domain/rule-schema.ts';
import type { Rule } from '../../domain/rule.ts';
import { NotFoundError, ValidationError } from '../../errors.ts';
import type { Store } from '../../storage/store.ts';
import type { z } from 'zod';
import type { RuleActors } from './rule-actors.ts';
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
}

/** Rejects a rule whose fields are fine one by one but not together (422, naming the field). */
function check(rule: Pick<Rule, 'operator' | 'threshold' | 'clear_threshold'>): void {
  const issues = ruleIssues(rule);
  if (issues.length > 0) throw new ValidationError(issues);
}

/**
 * Rules in the store, with their actors kept in step: created when enabled, updated in place when
 * the edit allows, stopped (resolving an open alert) when disabled or deleted.
 */
export function createRuleService({ store, actors, retire, owns = () => true, learn, changed }: RuleServiceOptions) {
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
      return stored(await store.rules.create(input));
    },
    async update(id: string, patch: z.output<typeof rulePatchSchema>): Promise<Rule> {
      const current = await store.rules.get(id);
      if (!current) throw new NotFoundError('rule', id);
      check({ ...current, ...patch });
      const rule = await store.rules.update(id, patch);
      if (!rule) throw new NotFoundError('rule', id);
      return stored(rule);
    },
    async delete(id: string): Promise<void> {
      const entry = actors.get(id);
      const current = changed ? await store.rules.get(id) : undefined;
      if (!(await store.rules.delete(id))) throw new NotFoundError('rule', id);
      if (entry) retire(actors.stop(id), entry.rule);
      await store.snapshots.delete(ruleActorId(id));
      if (current) await changed?.(current);
    },
    /** Re-reads one rule (another instance changed it) and brings its actor in line. */
    async refresh(id: string): Promise<void> {
      const rule = await store.rules.get(id);
      if (rule) await learn?.([rule]);
      syncOne(id, rule);
    },
    /** Reconciles the actors with the rules as stored (another process may have edited them). */
    async sync(rules: Rule[]): Promise<void> {
      const seen = new Set<string>();
      for (const rule of rules) {
        seen.add(rule.id);
        syncOne(rule.id, rule);
      }
      for (const entry of [...actors.entries()]) {
        if (!seen.has(entry.rule.id)) retire(actors.stop(entry.rule.id), entry.rule);
      }
    },
  };
}

/** The rules of one runtime, with their actors. */
export type RuleService = ReturnType<typeof createRuleService>;
