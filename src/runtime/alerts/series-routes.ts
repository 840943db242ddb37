import type { Actor } from 'xstate';
import type { AlertContext, AlertMachineEvent, alertMachine } from '../../actors/alert.ts';
import type { QuietCopy } from '../../actors/alert-evaluation.ts';
import type { Reading } from '../../domain/reading.ts';
import type { Rule } from '../../domain/rule.ts';
import type { AlertMachineSnapshot } from './held-step.ts';

/** The routing key of a (device, metric) series. */
export const seriesKey = (deviceId: string, metric: string): string => `${deviceId}\u0000${metric}`;

/** One rule and its actor (created on first use when the rule has nothing to time: see `createRuleActors`). */
export interface RuleEntry {
  rule: Rule;
  /** The running actor; reading it creates a lazy one. */
  readonly actor: Actor<typeof alertMachine>;
  /** Whether the actor exists yet. */
  readonly created: boolean;
  /** The actor's snapshot while not created (the held one, else the initial one), read without creating it. */
  peek(): { value: unknown; context: AlertContext };
  /** While no actor exists: the snapshot its transitions led to, undefined while it is as it started. */
  readonly held: AlertMachineSnapshot | undefined;
  /**
   * The snapshot the rule is in: its actor's, else the held one; undefined while it is as it started
   * (`ok`, its initial context), which is not built to be read.
   */
  readonly current: AlertMachineSnapshot | undefined;
  /** Takes an event without an actor when its transition needs none; false when it needs the actor. */
  advance(event: AlertMachineEvent): boolean;
  /**
   * The latest reading the actor starts with (the restored one, or none), read without building its
   * initial snapshot: with `rule`, what `quietInOk` reads of an actor not created yet.
   */
  readonly value: number | null;
  readonly lastReadingAt: number | null;
  /** The route of the series the rule watches, while it is attached to one. */
  route: Route | undefined;
}

/** The rules watching one series, and the `ts` of the newest reading routed to them. */
export interface Route extends QuietCopy {
  /** The series' `seriesKey`. */
  key: string;
  ts: string | null;
  entries: RuleEntry[];
  /** The series' latest stored reading, only during an interval evaluation (see `evaluateLatest`). */
  latest?: Reading | undefined;
  /**
   * Whether the series has one rule, last seen quiet in `ok` without a nodata watch (see
   * `quietContext` in rule-delivery.ts), and the route's `QuietCopy` fields hold a copy of what that
   * rule's quiet check reads (the rule's operator and threshold, the latest reading it has). A
   * reading that leaves the rule in `ok` is then judged from the route alone (`staysQuiet`), without
   * reaching the rule's entry, actor and snapshot. Set only by a delivery the rule ignored; cleared
   * by any delivery that reaches the rule, by an edit of it, and when a rule joins or leaves the
   * series.
   */
  quiet: boolean;
}

/** The rules by series they watch: what a reading is routed to (by device, then metric: no key is built per reading). */
export function createSeriesRoutes() {
  const byDevice = new Map<string, Map<string, Route>>();
  /** Every route in the order its series was first watched (the order interval evaluations go in). */
  // Keyed by the route itself: no series key is hashed per rule at start-up.
  const ordered = new Set<Route>();
  return {
    /** Adds a rule to its series; `seenTs` is the newest reading of the series already evaluated. */
    attach(entry: RuleEntry, seenTs: string | null): void {
      const { device_id: device, metric } = entry.rule;
      let metrics = byDevice.get(device);
      if (!metrics) byDevice.set(device, (metrics = new Map()));
      let route = metrics.get(metric);
      if (!route) {
        // The quiet copy is read only once a delivery sets `quiet`; until then it holds the rule's threshold.
        const { operator, threshold } = entry.rule;
        route = { key: seriesKey(device, metric), ts: seenTs, entries: [], latest: undefined, quiet: false, quietOperator: operator, quietThreshold: threshold, quietValue: null, quietReadingAt: null };
        metrics.set(metric, route);
        ordered.add(route);
      }
      else if (seenTs !== null && (route.ts === null || seenTs > route.ts)) route.ts = seenTs;
      route.entries.push(entry);
      route.quiet = false;
      entry.route = route;
    },
    detach(entry: RuleEntry): void {
      const { device_id: device, metric } = entry.rule;
      const metrics = byDevice.get(device);
      const route = metrics?.get(metric);
      if (!metrics || !route) return;
      entry.route = undefined;
      route.quiet = false;
      // A new array, not a splice: a loop over the old one (an evaluation restarting a failed rule) goes on unchanged.
      route.entries = route.entries.filter((e) => e !== entry);
      if (route.entries.length > 0) return;
      metrics.delete(metric);
      ordered.delete(route);
      if (metrics.size === 0) byDevice.delete(device);
    },
    /** The rules watching a series, or undefined when none does. */
    find: (device: string, metric: string): Route | undefined => byDevice.get(device)?.get(metric),
    /** Forgets every route (every rule stopped at once). */
    clear(): void {
      byDevice.clear();
      ordered.clear();
    },
    all: (): IterableIterator<Route> => ordered.values(),
    /** How many series are watched. */
    size: (): number => ordered.size,
  };
}

/** The rules of one runtime by series. */
export type SeriesRoutes = ReturnType<typeof createSeriesRoutes>;
