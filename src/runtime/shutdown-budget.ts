import type { Logger } from './logger.ts';

/**
 * The whole time a runtime may take to stop, from `stop()` to closed adapters: within it the runtime
 * gives each concern the time left; what is still running at its end is given up. `vigil run` exits
 * 0 when the stop ends within it, as a container runtime expects of a SIGTERM.
 */
export const SHUTDOWN_TIMEOUT_MS = 5_000;

/** The part of the budget kept for closing the broker and the store, after the concerns. */
export const ADAPTER_SHARE = 0.1;

/** The epoch-ms deadline `ms` from now. */
export const deadlineIn = (ms: number = SHUTDOWN_TIMEOUT_MS, now: number = Date.now()): number => now + ms;

/** Milliseconds left before `deadline` (0 once past). */
export const timeLeft = (deadline: number, now: number = Date.now()): number => Math.max(0, deadline - now);

/** A signal that aborts at `deadline`. */
export const abortAt = (deadline: number): AbortSignal => AbortSignal.timeout(Math.max(1, timeLeft(deadline)));

/** Whether `work` settled by `deadline`; its failure is logged, not thrown, and later work is not waited for. */
export async function settledBy(work: () => Promise<unknown>, deadline: number, what: { name: string; logger: Logger }): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeLeft(deadline))));
  const done = Promise.resolve()
    .then(work)
    .then(
      () => true as const,
      (error: unknown) => {
        what.logger.error({ err: error, concern: what.name }, 'concern failed to stop cleanly');
        return true as const;
      },
    );
  try {
    const settled = await Promise.race([done, late]);
    if (!settled) what.logger.warn({ concern: what.name }, 'concern did not stop within the shutdown budget; given up');
    return settled;
  } finally {
    clearTimeout(timer);
  }
}

/** Something the runtime stops: a concern, the HTTP server, an adapter. */
export interface Stoppable {
  name: string;
  stop(deadline?: number): Promise<void>;
}
