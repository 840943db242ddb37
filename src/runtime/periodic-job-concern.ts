import { createActor, fromPromise } from 'xstate';
import { periodicJobMachine, type PeriodicJobContext } from '../actors/periodic-job.ts';
import { actorConcern, type Concern } from './concern.ts';
import type { RuntimeContext } from './context.ts';
import { messageOf } from '../errors.ts';

/**
 * A periodic job concern: `work` runs on every tick, each run reported to plugin health under `id`;
 * its `signal` aborts when the actor is stopped (a stop whose deadline passed with the run in flight).
 */
export function periodicJobConcern(
  ctx: Pick<RuntimeContext, 'logger' | 'store' | 'registry' | 'runs' | 'inspect'>,
  options: { id: string; periodMs: number; work: (signal: AbortSignal) => Promise<unknown>; describe: (result: unknown) => Record<string, unknown> },
): Concern {
  const logger = ctx.logger.child({ actor: options.id });
  return actorConcern({
    id: options.id,
    kind: options.id,
    ctx,
    create: (restored) => {
      const machine = periodicJobMachine.provide({
        actors: { work: fromPromise(({ signal }) => options.work(signal)) },
        actions: {
          reportDone: (_, { result }) => {
            logger.info(options.describe(result), 'job done');
            ctx.runs.report(options.id, { ok: true });
          },
          reportFailed: (_, { error }) => {
            logger.error({ err: error }, 'job failed');
            ctx.runs.report(options.id, { ok: false, error: messageOf(error) });
          },
        },
      });
      const input = { periodMs: options.periodMs, restored: restored as Partial<PeriodicJobContext> | undefined };
      return { machine, actor: createActor(machine, { id: options.id, input, inspect: ctx.inspect }) };
    },
  });
}
