import type { Actor } from 'xstate';
import type { alertMachine } from '../../actors/alert.ts';
import type { Rule } from '../../domain/rule.ts';

/** The routing key of a (device, metric) series. */
export const seriesKey = (deviceId: string, metric: string): string => `${deviceId}\u0000${metric}`;

/** One rule and its running actor. */
export interface RuleEntry {
  rule: Rule;
  actor: Actor<typeof alertMachine>;
}

/** The rules watching one series, and the `ts` of the newest reading routed to them. */
export interface Route {
  ts: string | null;
  entries: RuleEntry[];
}

/** The rules by series they watch: what a reading is routed to. */
export function createSeriesRoutes() {
  const routes = new Map<string, Route>();
  return {
    /** Adds a rule to its series; `seenTs` is the newest reading of the series already evaluated. */
    attach(entry: RuleEntry, seenTs: string | null): void {
      const key = seriesKey(entry.rule.device_id, entry.rule.metric);
      let route = routes.get(key);
      if (!route) routes.set(key, (route = { ts: seenTs, entries: [] }));
      else if (seenTs !== null && (route.ts === null || seenTs > route.ts)) route.ts = seenTs;
      route.entries.push(entry);
    },
    detach(entry: RuleEntry): void {
      const key = seriesKey(entry.rule.device_id, entry.rule.metric);
      const route = routes.get(key);
      if (!route) return;
      route.entries = route.entries.filter((e) => e !== entry);
      if (route.entries.length === 0) routes.delete(key);
    },
    get: (key: string): Route | undefined => routes.get(key),
    all: (): IterableIterator<[string, Route]> => routes.entries(),
  };
}

/** The rules of one runtime by series. */
export type SeriesRoutes = ReturnType<typeof createSeriesRoutes>;
