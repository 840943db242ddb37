import type { RunFeed, RunOutcome } from '../ports/run-reporter.ts';

export type { RunFeed, RunOutcome, RunReporter } from '../ports/run-reporter.ts';

/**
 * A reporter that fans each run out to its listeners. Delivery happens in a microtask: reports come
 * from inside other actors' actions, and XState must not run one actor's actions inside another's.
 */
export function createRunReporter(): RunFeed {
  const listeners = new Set<(plugin: string, outcome: RunOutcome) => void>();
  return {
    report(plugin, outcome) {
      const stamped = { ...outcome, at: outcome.at ?? new Date().toISOString() };
      queueMicrotask(() => {
        for (const listener of listeners) listener(plugin, stamped);
      });
    },
    listen(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
