import type { AlertMachineEvent, alertMachine } from '../../actors/alert.ts';
import { copyQuiet, quietInOk, staysQuiet, type LatestReading } from '../../actors/alert-evaluation.ts';
import type { Rule } from '../../domain/rule.ts';
import { messageOf } from '../../errors.ts';
import type { Logger } from '../logger.ts';
import type { AlertMachineSnapshot } from './held-step.ts';
import type { Route, RuleEntry } from './series-routes.ts';

/** An evaluation sent to a rule: at `at`, of the latest reading (`value` at `ts`, null when none). */
export type Evaluate = Extract<AlertMachineEvent, { type: 'EVALUATE' }>;

/**
 * What the quiet check of a rule in `ok` without a nodata watch reads (`quietInOk`): the context of
 * its snapshot (`entry.current`), or its entry while it is as it started (not created nor moved: the
 * rule and the reading it starts with). Undefined in any other state, or with a nodata watch.
 */
function quietContext(entry: RuleEntry, snapshot: AlertMachineSnapshot | undefined): LatestReading | undefined {
  if (!snapshot) return entry.rule.nodata_seconds == null ? entry : undefined;
  if (snapshot.status !== 'active' || snapshot.value !== 'ok' || snapshot.context.rule.nodata_seconds != null) return undefined;
  return snapshot.context;
}

/**
 * Whether a rule would take no transition on an evaluation. XState then keeps the same snapshot and
 * runs no action (the alert machine has no eventless transitions, which would be tried after any
 * event), so the evaluation need not be sent: selecting the transitions is about half of what
 * processing an event costs, and most readings change nothing. A rule whose actor is not created yet
 * is judged as from its initial snapshot, or the one it holds once moved (see `Entry.advance`).
 *
 * Only `ok` can ignore an evaluation: every other state ends its EVALUATE transitions with an
 * unguarded one, so asking XState there would only select, a second time, the transition the actor
 * is about to take (that is every fire and resolve).
 *
 * Without a nodata watch, `ok` moves exactly on a breach: `quietInOk` knows without XState (it reads
 * the machine's own guards, which the runtime never overrides: it provides actions only), from
 * `quiet` (see `quietContext`). An actor not created yet is read from its entry (the rule, the
 * reading it starts with); such a rule has no nodata watch (see `startsIdle`; an edit that adds one
 * creates the actor). One that moved without an actor is read from the snapshot it holds, as an
 * actor's.
 */
function ignores(machine: typeof alertMachine, snapshot: AlertMachineSnapshot | undefined, quiet: LatestReading | undefined, event: Evaluate): boolean {
  if (quiet !== undefined) return quietInOk(quiet, event);
  if (!snapshot || snapshot.status !== 'active' || snapshot.value !== 'ok') return false;
  return noTransition(machine, snapshot, event);
}

/** Whether XState selects no transition for `event` from `snapshot`. */
function noTransition(machine: typeof alertMachine, snapshot: AlertMachineSnapshot, event: Evaluate): boolean {
  try {
    return machine.getTransitionData(snapshot, event).length === 0;
  } catch {
    // A guard that throws: sent, the actor fails on it as it should.
    return false;
  }
}

/** Sends an evaluation to a rule; the error message when its actor failed on it (and was restarted). */
export type Deliver = (entry: RuleEntry, event: Evaluate) => string | null;

/** Evaluations sent to rules, the ignored ones skipped (see `ignores`), a rule failing on one started afresh. */
export function ruleDelivery(
  options: { logger: Logger; machine: typeof alertMachine; inspect?: unknown },
  start: (rule: Rule) => RuleEntry,
  stop: (ruleId: string) => unknown,
): Deliver {
  const { logger, machine } = options;
  // The inspector sees every evaluation: none is skipped while it watches.
  const skipIgnored = !options.inspect;
  /**
   * Sends a value to a rule (not when its actor would ignore it: see `ignores`; without an actor when
   * none exists and the transition needs none: see `Entry.advance`); a rule that fails on it is logged
   * and restarted, and the error returned.
   */
  function deliver(entry: RuleEntry, event: Evaluate): string | null {
    const route = entry.route;
    if (skipIgnored) {
      // Read once: a created actor's snapshot is a call away.
      const snapshot = entry.current;
      const quiet = quietContext(entry, snapshot);
      if (ignores(machine, snapshot, quiet, event)) {
        // The rule stays as it is: the next reading of a series it watches alone is judged from the route,
        // from a copy of what the check reads (the context and the entry do not share one shape).
        if (route && route.entries.length === 1 && quiet) {
          copyQuiet(route, quiet);
          route.quiet = true;
        }
        return null;
      }
    }
    // The rule may move: its route judges nothing more until a delivery finds it quiet again.
    if (route) route.quiet = false;
    if (!entry.created) {
      try {
        if (entry.advance(event)) return null;
      } catch (error) {
        return restart(entry, error);
      }
    }
    const actor = entry.actor;
    actor.send(event);
    const snapshot = actor.getSnapshot();
    return snapshot.status === 'error' ? restart(entry, snapshot.error) : null;
  }

  /** A rule that failed on an evaluation: logged, started afresh; the error's message. */
  function restart(entry: RuleEntry, error: unknown): string {
    logger.error({ rule: entry.rule.id, err: error }, 'rule evaluation failed; actor restarted');
    stop(entry.rule.id);
    start(entry.rule);
    return messageOf(error);
  }

  return deliver;
}

/** Failures counted over many deliveries: how many, and the last one's message. */
export interface Failures {
  errors: number;
  lastError: string | null;
}

/**
 * Sends an evaluation to every rule of a series, counting failures into `failures`. While the
 * series' one rule is quiet in `ok` (`route.quiet`), an evaluation that leaves it so stops at the
 * route: the same check `deliver` would make, without reaching the rule's entry and snapshot (most
 * readings, each a handful of objects scattered over a heap of many rules).
 */
export function deliverToSeries(deliver: Deliver, route: Route, event: Evaluate, failures: Failures): void {
  if (route.quiet && staysQuiet(route, event)) return;
  const entries = route.entries;
  for (let e = 0; e < entries.length; e++) {
    const error = deliver(entries[e]!, event);
    if (error !== null) {
      failures.errors++;
      failures.lastError = error;
    }
  }
}
