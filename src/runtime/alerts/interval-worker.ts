import { createActor, fromPromise, waitFor, type Actor } from 'xstate';
import { alertWorkerMachine, type AlertWorkerContext, type AlertWorkerEvent, type CycleOutcome } from '../../actors/alert-worker.ts';
import { messageOf } from '../../errors.ts';
import type { RuntimeContext } from '../context.ts';
import type { Logger } from '../logger.ts';

/** The worker id, under which its statistics persist. */
export const ALERT_WORKER_ID = 'alert-worker';

/** Options of `createIntervalWorker`. */
export interface IntervalWorkerOptions {
  ctx: Pick<RuntimeContext, 'registry' | 'runs' | 'inspect'>;
  logger: Logger;
  now: () => number;
  intervalMs: number;
  /** One interval cycle. */
  cycle: () => Promise<CycleOutcome>;
}

/**
 * The interval worker: runs `cycle` every interval and keeps the engine's statistics (evaluations,
 * alerts triggered and resolved, errors), which persist under `ALERT_WORKER_ID`.
 */
export function createIntervalWorker(options: IntervalWorkerOptions) {
  const { ctx, logger, now } = options;
  let worker: Actor<typeof alertWorkerMachine> | undefined;

  function start(restored: Partial<AlertWorkerContext> | undefined): void {
    const provided = alertWorkerMachine.provide({
      actors: { cycle: fromPromise<CycleOutcome, { n: number }>(() => options.cycle()) },
      actions: {
        reportCycle: (_, outcome) => {
          logger.debug({ rules: outcome.rules, evaluations: outcome.evaluations, ms: Math.round(outcome.durationMs) }, 'alert cycle done');
          ctx.runs.report(ALERT_WORKER_ID, outcome.errors > 0 ? { ok: false, error: outcome.lastError ?? 'rule errors' } : { ok: true });
        },
        reportCycleError: (_, { error }) => {
          logger.error({ err: error }, 'alert cycle failed');
          ctx.runs.report(ALERT_WORKER_ID, { ok: false, error: messageOf(error) });
        },
      },
    });
    worker = createActor(provided, { id: ALERT_WORKER_ID, input: { intervalMs: options.intervalMs, startedAt: now(), restored }, inspect: ctx.inspect });
    ctx.registry.add({ id: ALERT_WORKER_ID, kind: 'alert-worker', actor: worker, machine: provided });
    worker.start();
    worker.send({ type: 'START' });
  }

  return {
    start,
    /** Counts into the worker's statistics (nothing before it starts, or in a dry run). */
    send: (event: AlertWorkerEvent) => worker?.send(event),
    /** Asks the worker to stop after its cycle in flight; resolves once it has (or after `timeoutMs`). */
    async finish(timeoutMs: number): Promise<void> {
      if (!worker) return;
      worker.send({ type: 'STOP' });
      try {
        await waitFor(worker, (snapshot) => snapshot.status !== 'active', { timeout: timeoutMs });
      } catch {
        logger.warn('alert cycle did not finish in time; stopping anyway');
      }
    },
    /** The worker's persisted statistics, for the one `snapshots.save` at stop. */
    persisted: (): { actorId: string; snapshot: unknown }[] => (worker ? [{ actorId: ALERT_WORKER_ID, snapshot: worker.getPersistedSnapshot() }] : []),
    stop(): void {
      if (!worker) return;
      worker.stop();
      ctx.registry.remove(ALERT_WORKER_ID);
      worker = undefined;
    },
    /** The worker's statistics with its uptime. */
    stats(): (AlertWorkerContext & { uptime_seconds: number }) | null {
      if (!worker) return null;
      const stats = worker.getSnapshot().context;
      return { ...stats, uptime_seconds: Math.round((now() - stats.startedAt) / 1_000) };
    },
  };
}

/** The interval worker of one engine. */
export type IntervalWorker = ReturnType<typeof createIntervalWorker>;
