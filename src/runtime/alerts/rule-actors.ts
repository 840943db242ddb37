import { createActor, fromCallback, type Actor, type ActorOptions, type AnyActorLogic, type AnyActorRef } from 'xstate';
import type { AlertContext, AlertMachineEvent, AlertStateName, alertMachine, PersistedAlert } from '../../actors/alert.ts';
import type { Reading } from '../../domain/reading.ts';
import type { Rule } from '../../domain/rule.ts';
import type { Logger } from '../logger.ts';
import type { ActorRegistry } from '../registry.ts';
import type { InspectObserver } from '../inspect.ts';
import { messageOf } from '../../errors.ts';

/** The actor id of a rule's actor, and the prefix of every one (snapshots are saved under these ids). */
export const RULE_ACTOR_PREFIX = 'rule:';
export const ruleActorId = (ruleId: string): string => `${RULE_ACTOR_PREFIX}${ruleId}`;
/** The routing key of a (device, metric) series. */
export const seriesKey = (deviceId: string, metric: string): string => `${deviceId}\u0000${metric}`;

type AlertActor = Actor<typeof alertMachine>;
/** An evaluation sent to a rule: at `at`, of the latest reading (`value` at `ts`, null when none). */
export type Evaluate = Extract<AlertMachineEvent, { type: 'EVALUATE' }>;
type Clock = NonNullable<ActorOptions<AnyActorLogic>['clock']>;

/** One rule and its running actor. */
export interface RuleEntry {
  rule: Rule;
  actor: AlertActor;
}

/** The rules watching one series, and the `ts` of the newest reading routed to them. */
export interface Route {
  ts: string | null;
  entries: RuleEntry[];
}

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

/** The state name a snapshot value stands for. */
export function stateName(value: unknown): AlertStateName {
  if (value === 'pending' || value === 'nodata') return value;
  if (value && typeof value === 'object' && 'firing' in value) return (value as { firing: string }).firing === 'clearing' ? 'clearing' : 'firing';
  return 'ok';
}

/** Whether a persisted rule state holds an open alert (`firing`, or `clearing` while keep-firing runs). */
export function holdsAlert(persisted: PersistedAlert | null | undefined): boolean {
  return persisted?.state === 'firing' || persisted?.state === 'clearing';
}

/** What a rule actor persists: its state and its context less the rule (which the store holds). */
export function persistedAlert(actor: AnyActorRef): PersistedAlert {
  const snapshot = actor.getSnapshot() as { value: unknown; context: AlertContext };
  const { rule: _rule, resume: _resume, timers: _timers, ...context } = snapshot.context;
  return { state: stateName(snapshot.value), context };
}

/**
 * The per-rule root actors: created, updated and stopped as rules change, registered as `rule:<id>`
 * (kind `rule`), and routed to by series. They share one actor system (a host actor's), so an idle
 * rule costs one actor and no system of its own; none is a child in another actor's snapshot.
 */
export function createRuleActors(options: RuleActorsOptions) {
  const { registry, logger, machine, now } = options;
  // Options are spread only when set: an explicit `clock: undefined` replaces XState's default clock.
  const host = createActor(fromCallback(() => undefined), {
    id: 'rules',
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.inspect ? { inspect: options.inspect } : {}),
  });
  host.start();
  const entries = new Map<string, RuleEntry>();
  const routes = new Map<string, Route>();

  function attach(entry: RuleEntry, seenTs: string | null): void {
    const key = seriesKey(entry.rule.device_id, entry.rule.metric);
    let route = routes.get(key);
    if (!route) routes.set(key, (route = { ts: seenTs, entries: [] }));
    else if (seenTs !== null && (route.ts === null || seenTs > route.ts)) route.ts = seenTs;
    route.entries.push(entry);
  }

  function detach(entry: RuleEntry): void {
    const key = seriesKey(entry.rule.device_id, entry.rule.metric);
    const route = routes.get(key);
    if (!route) return;
    route.entries = route.entries.filter((e) => e !== entry);
    if (route.entries.length === 0) routes.delete(key);
  }

  /**
   * Starts a rule's actor. `seenTs` is the time of the newest reading of its series already
   * evaluated (by this instance or a previous owner): an older one redelivered later is stale.
   */
  function start(rule: Rule, restored?: PersistedAlert, seenTs: string | null = null): RuleEntry {
    const at = now();
    const input = { rule, now: at, restored, timers: options.timers ?? true };
    const actor = createActor(machine, { id: ruleActorId(rule.id), input, parent: host as AnyActorRef });
    const entry = { rule, actor };
    entries.set(rule.id, entry);
    attach(entry, seenTs);
    registry.add({ id: ruleActorId(rule.id), kind: 'rule', actor, machine });
    actor.start();
    if (restored && restored.state !== 'ok') actor.send({ type: 'RESUME', now: at });
    return entry;
  }

  /** Stops a rule's actor; returns what it last knew (to resolve an alert it leaves open). */
  function stop(ruleId: string): PersistedAlert | undefined {
    const entry = entries.get(ruleId);
    if (!entry) return undefined;
    const last = persistedAlert(entry.actor);
    entries.delete(ruleId);
    detach(entry);
    registry.remove(ruleActorId(ruleId));
    // The host is only there to share its system, and XState stops no actor that has a parent: the
    // machine ends itself instead (its final state stops it and cancels its timer, not the system's).
    entry.actor.send({ type: 'RETIRE' });
    return last;
  }

  /** Sends a value to a rule; an actor that fails on it is logged and restarted, and the error returned. */
  function deliver(entry: RuleEntry, event: Evaluate): string | null {
    entry.actor.send(event);
    const snapshot = entry.actor.getSnapshot();
    if (snapshot.status !== 'error') return null;
    const message = messageOf(snapshot.error);
    logger.error({ rule: entry.rule.id, err: snapshot.error }, 'rule evaluation failed; actor restarted');
    stop(entry.rule.id);
    start(entry.rule);
    return message;
  }

  return {
    deliver,
    /** Starts the actor of an enabled rule (from its persisted state, when given). */
    start,
    stop,
    get: (ruleId: string) => entries.get(ruleId),
    /** The rules watching a series, or undefined when none does. */
    route: (key: string) => routes.get(key),
    get size() {
      return entries.size;
    },
    entries: () => entries.values(),

    /**
     * Applies an edited rule. Same series: the actor keeps its state and judges the next value by
     * the new rule (new durations count from when the state began). Another series: the actor is
     * replaced, and what the old one knew is returned so that an alert it leaves open can be resolved.
     */
    update(rule: Rule): { replaced?: PersistedAlert } {
      const entry = entries.get(rule.id);
      if (!entry) {
        start(rule);
        return {};
      }
      if (entry.rule.device_id !== rule.device_id || entry.rule.metric !== rule.metric) {
        const replaced = stop(rule.id);
        start(rule);
        return { replaced };
      }
      entry.rule = rule;
      entry.actor.send({ type: 'RULE_UPDATED', rule, now: now() });
      return {};
    },

    /**
     * Interval evaluation at the actor clock's now: each rule gets the latest stored reading of its
     * series (a rule that watches for silence is evaluated without one, too). A rule whose actor
     * fails is counted, logged and restarted; the others go on.
     */
    evaluate(readings: Reading[]): { evaluations: number; errors: number; lastError: string | null } {
      const at = now();
      let evaluations = 0;
      let errors = 0;
      let lastError: string | null = null;
      const latest = new Map<string, Reading>();
      for (const reading of readings) latest.set(seriesKey(reading.device_id, reading.metric), reading);
      for (const [key, route] of routes) {
        const reading = latest.get(key);
        if (reading && (route.ts === null || reading.ts > route.ts)) route.ts = reading.ts;
        const ts = reading ? Date.parse(reading.ts) : null;
        for (const entry of [...route.entries]) {
          if (!reading && entry.rule.nodata_seconds == null) continue;
          evaluations++;
          const error = deliver(entry, { type: 'EVALUATE', at, now: at, value: reading?.value ?? null, ts });
          if (error !== null) {
            errors++;
            lastError = error;
          }
        }
      }
      return { evaluations, errors, lastError };
    },

    /** Every actor's persisted form, for one `snapshots.save` call. */
    persisted(): { actorId: string; snapshot: PersistedAlert }[] {
      return [...entries.values()].map((entry) => ({ actorId: ruleActorId(entry.rule.id), snapshot: persistedAlert(entry.actor) }));
    },

    /** Rule actors per state. */
    countByState(): Record<AlertStateName, number> {
      const counts: Record<AlertStateName, number> = { ok: 0, pending: 0, firing: 0, clearing: 0, nodata: 0 };
      for (const entry of entries.values()) counts[stateName(entry.actor.getSnapshot().value)]++;
      return counts;
    },

    /** Stops every rule actor and the shared host. */
    stopAll(): void {
      for (const id of [...entries.keys()]) stop(id);
      host.stop();
    },
  };
}

/** The per-rule actors of one runtime. */
export type RuleActors = ReturnType<typeof createRuleActors>;
