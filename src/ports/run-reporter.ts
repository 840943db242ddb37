/** The outcome of one run of a plugin (a periodic job, a consumer batch, a channel delivery). */
export interface RunOutcome {
  ok: boolean;
  error?: string;
  /** ISO time of the run (default now). */
  at?: string;
}

/** Where plugins report their runs; plugin health tracking subscribes to it. Adapters receive one through their options. */
export interface RunReporter {
  report(plugin: string, outcome: RunOutcome): void;
}

/** A reporter whose runs can be listened to (plugin health does); `listen` returns the unsubscribe. */
export interface RunFeed extends RunReporter {
  listen(listener: (plugin: string, outcome: RunOutcome) => void): () => void;
}
