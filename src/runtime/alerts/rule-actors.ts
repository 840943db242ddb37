import { createActor, fromCallback, type ActorOptions, type AnyActorLogic, type AnyActorRef } from 'xstate';
import type { AlertStateName, alertMachine, PersistedAlert } from '../../actors/alert.ts';
import type { Reading } from '../../domain/reading.ts';
import type { Rule } from '../../domain/rule.ts';
import type { Logger } from '../logger.ts';
import type { ActorRegistry } from '../registry.ts';
import type { InspectObserver } from '../inspect.ts';
import { createSeriesRoutes, type Route, type RuleEntry, type SeriesRoutes } from './series-routes.ts';
import { persistedAlert, persistedOf, stateName } from './rule-state.ts';
import { Entry, ruleActorId, startsIdle, type Shared } from './rule-entry.ts';
import { createHeldStep } from './held-step.ts';
import { deliverToSeries, ruleDelivery, type Deliver, type Evaluate, type Failures } from './rule-delivery.ts';

export type { Evaluate } from './rule-delivery.ts';

export { seriesKey, type Route, type RuleEntry } from './series-routes.ts';
export { holdsAlert, persistedAlert, stateName } from './rule-state.ts';
export { RULE_ACTOR_PREFIX, ruleActorId, type Shared } from './rule-entry.ts';

type Clock = NonNullable<ActorOptions<AnyActorLogic>['clock']>;

/** Options of `createRuleActors`. */
export interface RuleActorsOptions {
  registry: ActorRegistry;
  logger: Logger;
  /** The alert machine with the runtime's effects provided. */
  machine: typeof alertMachine;
  /** The actors' clock: now, and where their timers run (XState `SimulatedClock` in tests). */
  now: () => number;
  clock?: Clock;
  /** Whether deadlines re-evaluate the latest reading when due (reactive); off in interval mode. */
  timers?: boolean;
  /** The Stately inspector's observer (`--inspect`); the rule actors share the host's system, so it goes there. */
  inspect?: InspectObserver;
}


/** Evaluations made, and failures counted over them. */
export interface Evaluated extends Failures {
  evaluations: number;
}

/**
 * Interval evaluation at `at`: each rule gets the latest stored reading of its series (a rule that
 * watches for silence is evaluated without one, too), series in their routes' order. A rule whose
 * actor fails is counted, logged and restarted; the others go on, and the restarted one waits for
 * the next evaluation.
 *
 * Each reading is put on its series' route for the pass over the routes, and taken off there: no
 * map of every series (a large object per cycle at 10k series, freed only by a full collection) is
 * built.
 */
function evaluateLatest(routes: SeriesRoutes, deliver: Deliver, readings: Reading[], at: number): Evaluated {
  const outcome: Evaluated = { evaluations: 0, errors: 0, lastError: null };
  for (const reading of readings) {
    const route = routes.find(reading.device_id, reading.metric);
    if (route) route.latest = reading;
  }
  try {
    // Only the routes there at the start: a restarted rule alone on its series is re-attached on a new
    // route at the end of the order, which the pass must not reach (a rule watching for silence is
    // evaluated there without a reading, and one failing on every evaluation would loop forever).
    let left = routes.size();
    for (const route of routes.all()) {
      if (left-- === 0) break;
      const reading = route.latest;
      route.latest = undefined;
      if (reading && (route.ts === null || reading.ts > route.ts)) route.ts = reading.ts;
      const ts = reading ? Date.parse(reading.ts) : null;
      // Not copied: a rule restarted on an error is detached into a new array (see `createSeriesRoutes`).
      for (const entry of route.entries) {
        if (!reading && entry.rule.nodata_seconds == null) continue;
        outcome.evaluations++;
        const error = deliver(entry, { type: 'EVALUATE', at, now: at, value: reading?.value ?? null, ts });
        if (error !== null) {
          outcome.errors++;
          outcome.lastError = error;
        }
      }
    }
  } catch (error) {
    // Nothing left on a route for the next cycle, where that series' reading may be gone.
    for (const route of routes.all()) route.latest = undefined;
    throw error;
  }
  return outcome;
}

/** The actor whose system every rule actor shares (started). */
function sharedHost(options: Pick<RuleActorsOptions, 'clock' | 'inspect'>): AnyActorRef {
  // Options are spread only when set: an explicit `clock: undefined` replaces XState's default clock.
  const host = createActor(fromCallback(() => undefined), {
    id: 'rules',
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.inspect ? { inspect: options.inspect } : {}),
  });
  return host.start();
}

/**
 * Every created actor's persisted form (or held snapshot's), for one `snapshots.save` call. A rule
 * that never moved is still what it was started from (the stored snapshot, or none): nothing to save.
 */
function persistedAll(entries: Iterable<RuleEntry>): { actorId: string; snapshot: PersistedAlert }[] {
  const persisted: { actorId: string; snapshot: PersistedAlert }[] = [];
  for (const entry of entries) {
    const snapshot = entry.current;
    if (snapshot) persisted.push({ actorId: ruleActorId(entry.rule.id), snapshot: persistedOf(snapshot) });
  }
  return persisted;
}

/** Rule actors per state (one not created yet is in its held state, else `ok`: only such a rule starts lazily). */
function countByState(entries: Iterable<RuleEntry>): Record<AlertStateName, number> {
  const counts: Record<AlertStateName, number> = { ok: 0, pending: 0, firing: 0, clearing: 0, nodata: 0 };
  for (const entry of entries) counts[stateName(entry.current?.value)]++;
  return counts;
}

/** Starting and stopping rule actors: registered, routed by series, sharing one host's system. */
function ruleLifecycle(options: RuleActorsOptions, entries: Map<string, Entry>, routes: SeriesRoutes) {
  const { registry, machine, now } = options;
  const host = sharedHost(options);
  const shared: Shared = { machine, host, timers: options.timers ?? true, step: createHeldStep(machine, host), registry };

  /**
   * Starts a rule's actor. `seenTs` is the time of the newest reading of its series already
   * evaluated (by this instance or a previous owner): an older one redelivered later is stale.
   */
  function start(rule: Rule, restored?: PersistedAlert, seenTs: string | null = null): RuleEntry {
    const at = now();
    const entry = new Entry(rule, at, restored, shared);
    entry.register(registry, startsIdle(rule, restored, options.inspect));
    entries.set(rule.id, entry);
    routes.attach(entry, seenTs);
    if (!entry.created) return entry;
    entry.actor.start();
    if (restored && restored.state !== 'ok') entry.actor.send({ type: 'RESUME', now: at });
    return entry;
  }

  /** What an actor persists, or would if created (its initial snapshot). */
  const lastOf = (entry: Entry): PersistedAlert => (entry.created ? persistedAlert(entry.actor) : persistedOf(entry.snapshot()));

  /** Stops a rule's actor; returns what it last knew (to resolve an alert it leaves open). */
  function stop(ruleId: string): PersistedAlert | undefined {
    const entry = entries.get(ruleId);
    if (!entry) return undefined;
    const last = lastOf(entry);
    entries.delete(ruleId);
    routes.detach(entry);
    retire(entry);
    return last;
  }

  /** Unregisters an actor and ends it (one never created has nothing to end). */
  function retire(entry: Entry): void {
    const created = entry.created;
    registry.remove(ruleActorId(entry.rule.id));
    // The host is only there to share its system, and XState stops no actor that has a parent: the
    // machine ends itself instead (its final state stops it and cancels its timer, not the system's).
    if (created) entry.actor.send({ type: 'RETIRE' });
  }

  /**
   * Stops every actor at once, the routes cleared in one go. Only an actor with a deadline armed is
   * ended (which cancels its timer); the others have nothing scheduled and receive nothing more once
   * unregistered, so they are dropped as they are (ending each costs a transition: seconds at 100k).
   */
  function stopAll(): void {
    for (const entry of entries.values()) {
      registry.remove(entry.id);
      if (entry.created && entry.actor.getSnapshot().context.wakeAt !== null) entry.actor.send({ type: 'RETIRE' });
    }
    entries.clear();
    routes.clear();
    host.stop();
  }

  return { start, stop, stopAll };
}

/**
 * The per-rule root actors: created, updated and stopped as rules change, registered as `rule:<id>`
 * (kind `rule`), and routed to by series. They share one actor system (a host actor's), so an idle
 * rule costs one actor and no system of its own; none is a child in another actor's snapshot.
 */
export function createRuleActors(options: RuleActorsOptions) {
  const { now } = options;
  const entries = new Map<string, Entry>();
  const routes = createSeriesRoutes();

  const { start, stop, stopAll } = ruleLifecycle(options, entries, routes);
  const deliver = ruleDelivery(options, start, stop);

  /**
   * Applies an edited rule. Same series: the actor keeps its state and judges the next value by
   * the new rule (new durations count from when the state began). Another series: the actor is
   * replaced, and what the old one knew is returned so that an alert it leaves open can be resolved.
   */
  function update(rule: Rule): { replaced?: PersistedAlert } {
    const entry = entries.get(rule.id);
    if (entry && entry.rule.device_id === rule.device_id && entry.rule.metric === rule.metric) {
      // The series judges nothing from what it last saw of the rule: the next delivery reads the edit.
      if (entry.route) entry.route.quiet = false;
      // A rule not created nor moved yet is created with the rule as it is then, unless the edit gives it a timer; a
      // moved one gets its actor, from the snapshot it holds, to apply the edit.
      if (!entry.current && rule.nodata_seconds == null) {
        entry.rule = rule;
        return {};
      }
      const actor = entry.actor;
      entry.rule = rule;
      actor.send({ type: 'RULE_UPDATED', rule, now: now() });
      return {};
    }
    const replaced = entry ? stop(rule.id) : undefined;
    start(rule);
    return replaced ? { replaced } : {};
  }

  return {
    deliver,
    /** Sends an evaluation to every rule of a series (see `deliverToSeries`). */
    deliverToSeries: (route: Route, event: Evaluate, failures: Failures): void => deliverToSeries(deliver, route, event, failures),
    /** Starts the actor of an enabled rule (from its persisted state, when given). */
    start,
    stop,
    update,
    get: (ruleId: string) => entries.get(ruleId),
    /** The rules watching a series, or undefined when none does. */
    route: routes.find,
    get size() {
      return entries.size;
    },
    entries: () => entries.values(),
    /** Interval evaluation at the actor clock's now, of the latest stored readings (see `evaluateLatest`). */
    evaluate: (readings: Reading[]): Evaluated => evaluateLatest(routes, deliver, readings, now()),
    /** Every actor's persisted form, for one `snapshots.save` call. */
    persisted: () => persistedAll(entries.values()),
    countByState: () => countByState(entries.values()),
    /** Stops every rule actor and the shared host. */
    stopAll,
  };
}

/** The per-rule actors of one runtime. */
export type RuleActors = ReturnType<typeof createRuleActors>;
