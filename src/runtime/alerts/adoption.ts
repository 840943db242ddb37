import type { PersistedAlert } from '../../actors/alert.ts';
import type { Rule } from '../../domain/rule.ts';
import type { Store } from '../../storage/store.ts';
import type { Logger } from '../logger.ts';
import { retryPatiently } from '../store-retry.ts';
import type { AlertWriter } from './alert-writer.ts';
import type { RuleOwnership } from './ownership.ts';
import type { PartitionFence } from './partition-fence.ts';
import { holdsAlert, ruleActorId, RULE_ACTOR_PREFIX, seriesKey, type createRuleActors } from './rule-actors.ts';

/** What adopting rules needs from the engine. */
export interface RuleAdoptionOptions {
  store: Store;
  actors: ReturnType<typeof createRuleActors>;
  ownership: RuleOwnership;
  writer: AlertWriter;
  logger: Logger;
  now: () => number;
  dryRun?: boolean;
  /** Told every stored rule as read at start (the rules kept in memory share these objects with the actors). */
  listed?: (rules: Rule[]) => void;
  /** Orders handovers across instances (rules owned by partition): see `createPartitionFence`. */
  fence?: PartitionFence;
}

/**
 * Which rules run here, and from what state: at start, every owned rule from its persisted state
 * (reconciled with the store's open events); on a rebalance, the rules of revoked partitions hand
 * their state over and those of assigned partitions are adopted.
 */
export function createRuleAdoption(options: RuleAdoptionOptions) {
  const { store, actors, ownership, writer, logger, now, fence } = options;
  /** Partitions whose rules run here (kept apart from the broker's view, which changes before the handover is done). */
  let accepted: number[] = [];

  /**
   * Loads every enabled rule this instance owns with its persisted state (one query each for rules,
   * snapshots, open events and latest readings). `accept` runs just before the actors start, with no wait between.
   */
  async function startRules(accept?: () => void): Promise<void> {
    const [all, snapshots, open, latest] = await retryPatiently(
      () => Promise.all([store.rules.list(), store.snapshots.loadAll(RULE_ACTOR_PREFIX), store.alerts.list({ is_resolved: false }), store.readings.latestAll()]),
      { logger, what: 'rules not loaded' },
    );
    // The newest stored reading per series was evaluated already: a redelivered older one is stale.
    const seen = new Map(latest.map((reading) => [seriesKey(reading.device_id, reading.metric), reading.ts]));
    options.listed?.(all);
    await ownership.learn(all);
    accept?.();
    const openByRule = new Map(open.map((event) => [event.alert_id, event]));
    const consumed: { actorId: string; snapshot: null }[] = [];
    for (const rule of all) {
      if (!rule.enabled || !ownership.owns(rule) || actors.get(rule.id)) continue;
      let restored = snapshots.get(ruleActorId(rule.id)) as PersistedAlert | null | undefined;
      if (restored && restored.state !== 'ok') consumed.push({ actorId: ruleActorId(rule.id), snapshot: null });
      const event = openByRule.get(rule.id);
      // The store is the truth about open alerts. A firing snapshot whose event is no longer open is
      // stale (another instance resolved it while this one was not the owner, or a write was given
      // up): resuming it would keep the rule "firing" with no open event, and it would never fire again.
      if (!event && holdsAlert(restored)) restored = undefined;
      // After a crash the snapshot may be missing or stale: an open event in the store means firing.
      else if (event && !holdsAlert(restored)) {
        const triggeredAt = Date.parse(event.triggered_at);
        const context = { ...restored?.context, now: now(), value: event.current_value, since: triggeredAt, activeAt: triggeredAt, triggeredAt, keepSince: null };
        restored = { state: 'firing', context: { ...context, pendingUntil: null, clearUntil: null, wakeAt: null } };
      }
      actors.start(rule, restored ?? undefined, seen.get(seriesKey(rule.device_id, rule.metric)) ?? null);
    }
    // A state is resumed once: a crash after this start must not resume it again from a stale snapshot.
    if (consumed.length > 0 && !options.dryRun) await retryPatiently(() => store.snapshots.save(consumed), { logger, what: 'resumed states not cleared' });
  }

  /**
   * A rebalance moved partitions: the rules of devices no longer owned stop, their alert writes land
   * and their state is persisted (not resolved: the new owner carries a firing alert on), and the
   * partitions are released; then, once their previous owners released them, the rules of newly
   * owned devices start from what those owners persisted.
   */
  async function handOver(partitions: number[]): Promise<void> {
    const assigned = new Set(partitions);
    const revoked = accepted.filter((partition) => !assigned.has(partition));
    fence?.letGo(revoked);
    accepted = accepted.filter((partition) => assigned.has(partition));
    ownership.accept(accepted);
    const leaving = [...actors.entries()].filter((entry) => !ownership.owns(entry.rule));
    const persisted = leaving.map((entry) => ({ actorId: ruleActorId(entry.rule.id), snapshot: actors.stop(entry.rule.id) ?? null }));
    if (persisted.length > 0) await saveLeaving(options, persisted, partitions);
    await fence?.handOver(revoked, partitions.filter((partition) => !accepted.includes(partition)));
    await fence?.hold(partitions);
    const before = actors.size;
    // Accepted only once their states are loaded, so an interval cycle cannot start them afresh meanwhile.
    await startRules(() => {
      accepted = partitions;
      ownership.accept(partitions);
    });
    if (actors.size > before) logger.info({ rules: actors.size - before, partitions }, 'rules adopted: partitions assigned');
  }

  /** At a stop, once the rules' states are saved: the partitions run here are released (by `deadline`). */
  const releaseAll = async (deadline: number): Promise<void> => fence?.releaseAll(accepted, deadline);

  return { startRules, handOver, releaseAll };
}

/**
 * The states of the rules leaving on a rebalance, saved once their alert writes landed; past the
 * patience the rules' new owner starts them from their last saved states, and the handover goes on.
 */
async function saveLeaving({ store, writer, logger, dryRun }: RuleAdoptionOptions, persisted: { actorId: string; snapshot: unknown }[], partitions: number[]): Promise<void> {
  await writer.drain();
  if (!dryRun) {
    await retryPatiently(() => store.snapshots.save(persisted), { logger, what: 'handed-over rule states not saved' }).catch((error: unknown) =>
      logger.error({ err: error, rules: persisted.length }, 'handed-over rule states not saved; their new owner starts them from the states saved before'),
    );
  }
  logger.info({ rules: persisted.length, partitions }, 'rules handed over: partitions revoked');
}
