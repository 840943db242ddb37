/** The outcome of one run of a plugin (a periodic job, a consumer batch, a channel delivery). */
export interface RunOutcome {
  ok: boolean;
  error?: string;
  /** ISO time of the run (default now). */
  at?: string;
}

/** Where plugins report their runs; plugin health tracking subscribes to it. */
export interface RunReporter {
  report(plugin: string, outcome: RunOutcome): void;
}

/** A reporter whose runs can be listened to (plugin health does); `listen` returns the unsubscribe. */
export interface RunFeed extends RunReporter {
  listen(listener: (plugin: string, outcome: RunOutcome) => void): () => void;
}

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
