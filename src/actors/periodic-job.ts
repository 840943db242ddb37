import { assign, fromPromise, raise, setup } from 'xstate';
import { clock } from './clock.ts';
import type { SettledEvent } from './drain.ts';
import { messageOf } from '../errors.ts';

/** What a periodic job is created with; `restored` carries counts over from a persisted snapshot. */
export interface PeriodicJobInput {
  periodMs: number;
  restored?: Partial<PeriodicJobContext>;
}

export interface PeriodicJobContext {
  periodMs: number;
  runs: number;
  failures: number;
  lastRunAt: string | null;
  lastError: string | null;
  /** What the last successful run returned (counts, a summary). */
  lastResult: unknown;
}

export type PeriodicJobEvent = { type: 'START' } | { type: 'STOP' } | { type: 'TICK' } | { type: 'RUN_NOW' };

/**
 * A job run on a drift-free clock (the janitor, analytics): one run at a time; a tick during a run is
 * dropped; a failed run is counted and the next tick still runs. A stop waits for the run in flight.
 */
export const periodicJobMachine = setup({
  types: {
    context: {} as PeriodicJobContext,
    input: {} as PeriodicJobInput,
    events: {} as PeriodicJobEvent | SettledEvent,
  },
  actors: {
    clock,
    // Provided by the runtime: the job itself.
    work: fromPromise<unknown>(async () => {
      throw new Error('periodic job: the work actor was not provided');
    }),
  },
  actions: {
    countRun: assign({
      runs: ({ context }) => context.runs + 1,
      lastRunAt: () => new Date().toISOString(),
      lastResult: (_, params: { result: unknown }) => params.result,
      lastError: () => null,
    }),
    countFailure: assign({
      runs: ({ context }) => context.runs + 1,
      failures: ({ context }) => context.failures + 1,
      lastRunAt: () => new Date().toISOString(),
      lastError: (_, params: { error: unknown }) => messageOf(params.error),
    }),
    settle: raise({ type: 'SETTLED' }),
    // Provided by the runtime: logs and reports each outcome.
    reportDone: (_, _params: { result: unknown }) => {},
    reportFailed: (_, _params: { error: unknown }) => {},
  },
}).createMachine({
  id: 'periodicJob',
  initial: 'idle',
  context: ({ input }) => ({
    periodMs: input.periodMs,
    runs: input.restored?.runs ?? 0,
    failures: input.restored?.failures ?? 0,
    lastRunAt: input.restored?.lastRunAt ?? null,
    lastError: input.restored?.lastError ?? null,
    lastResult: input.restored?.lastResult ?? null,
  }),
  states: {
    idle: {
      on: { START: 'running', STOP: 'stopped' },
    },
    running: {
      invoke: { src: 'clock', input: ({ context }) => ({ periodMs: context.periodMs }) },
      initial: 'waiting',
      states: {
        waiting: {
          on: { TICK: 'working', RUN_NOW: 'working', STOP: '#periodicJob.stopped' },
        },
        working: {
          invoke: {
            src: 'work',
            onDone: {
              actions: [
                { type: 'countRun', params: ({ event }) => ({ result: event.output }) },
                { type: 'reportDone', params: ({ event }) => ({ result: event.output }) },
                'settle',
              ],
            },
            onError: {
              actions: [
                { type: 'countFailure', params: ({ event }) => ({ error: event.error }) },
                { type: 'reportFailed', params: ({ event }) => ({ error: event.error }) },
                'settle',
              ],
            },
          },
          initial: 'inFlight',
          states: {
            inFlight: { on: { STOP: 'stopping', SETTLED: '#periodicJob.running.waiting' } },
            stopping: { on: { SETTLED: '#periodicJob.stopped' } },
          },
        },
      },
    },
    stopped: { type: 'final' },
  },
});
