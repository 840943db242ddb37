import { assign, fromPromise, raise, setup } from 'xstate';
import type { Tick } from '../streams/ticks.ts';
import { clock } from './clock.ts';
import type { SettledEvent } from './drain.ts';
import { messageOf } from '../errors.ts';

/** What the worker is created with; `restored` carries the totals over from a persisted snapshot. */
export interface AlertWorkerInput {
  intervalMs: number;
  /** When it starts (epoch ms), for its uptime. */
  startedAt: number;
  restored?: Partial<AlertWorkerContext>;
}

/** The worker's statistics, served by `GET /alerts/stats`. */
export interface AlertWorkerContext {
  intervalMs: number;
  startedAt: number;
  cycles: number;
  evaluations: number;
  triggered: number;
  resolved: number;
  errors: number;
  rules: number;
  lastCycleMs: number | null;
  lastCycleAt: number | null;
  lastError: string | null;
}

/** What one evaluation cycle did. */
export interface CycleOutcome {
  rules: number;
  evaluations: number;
  errors: number;
  durationMs: number;
  at: number;
  lastError: string | null;
}

/** What the alert writes did since the last report (fires and resolves written, writes that failed). */
export interface WriteCounts {
  triggered: number;
  resolved: number;
  errors: number;
  lastError?: string | null;
}

export type AlertWorkerEvent =
  | { type: 'START' }
  | { type: 'STOP' }
  | { type: 'TICK'; tick: Tick }
  | ({ type: 'WRITTEN' } & WriteCounts)
  | ({ type: 'EVALUATED' } & Pick<CycleOutcome, 'evaluations' | 'errors' | 'lastError'>);

/**
 * The alert worker: on every interval tick it runs one cycle (the runtime provides it: reload the
 * rules, keep one actor per enabled rule, evaluate every rule against the latest stored reading) and
 * counts cycles, evaluations, alerts triggered and resolved, and errors. A tick that comes while a
 * cycle is running is skipped; a failed cycle is counted and the next tick still runs. A stop waits
 * for the cycle in flight (its outcome counted and reported).
 */
export const alertWorkerMachine = setup({
  types: {
    context: {} as AlertWorkerContext,
    input: {} as AlertWorkerInput,
    events: {} as AlertWorkerEvent | SettledEvent,
  },
  actors: {
    clock,
    // Provided by the runtime: one evaluation cycle.
    cycle: fromPromise<CycleOutcome, { n: number }>(async () => {
      throw new Error('alert worker: the cycle actor was not provided');
    }),
  },
  actions: {
    applyCycle: assign(({ context }, outcome: CycleOutcome) => ({
      cycles: context.cycles + 1,
      rules: outcome.rules,
      evaluations: context.evaluations + outcome.evaluations,
      errors: context.errors + outcome.errors,
      lastCycleMs: outcome.durationMs,
      lastCycleAt: outcome.at,
      lastError: outcome.lastError ?? context.lastError,
    })),
    countCycleError: assign({
      cycles: ({ context }) => context.cycles + 1,
      errors: ({ context }) => context.errors + 1,
      lastError: (_, params: { error: unknown }) => messageOf(params.error),
    }),
    countWrites: assign(({ context, event }) => {
      const e = event as Extract<AlertWorkerEvent, { type: 'WRITTEN' }>;
      return {
        triggered: context.triggered + e.triggered,
        resolved: context.resolved + e.resolved,
        errors: context.errors + e.errors,
        lastError: e.lastError ?? context.lastError,
      };
    }),
    countEvaluations: assign(({ context, event }) => {
      const e = event as Extract<AlertWorkerEvent, { type: 'EVALUATED' }>;
      return { evaluations: context.evaluations + e.evaluations, errors: context.errors + e.errors, lastError: e.lastError ?? context.lastError };
    }),
    settle: raise({ type: 'SETTLED' }),
    // Provided by the runtime: logs each cycle.
    reportCycle: (_, _outcome: CycleOutcome) => {},
    reportCycleError: (_, _params: { error: unknown }) => {},
  },
}).createMachine({
  id: 'alertWorker',
  initial: 'idle',
  context: ({ input }) => ({
    intervalMs: input.intervalMs,
    startedAt: input.startedAt,
    cycles: input.restored?.cycles ?? 0,
    evaluations: input.restored?.evaluations ?? 0,
    triggered: input.restored?.triggered ?? 0,
    resolved: input.restored?.resolved ?? 0,
    errors: input.restored?.errors ?? 0,
    rules: input.restored?.rules ?? 0,
    lastCycleMs: input.restored?.lastCycleMs ?? null,
    lastCycleAt: input.restored?.lastCycleAt ?? null,
    lastError: null,
  }),
  on: {
    WRITTEN: { actions: 'countWrites' },
    EVALUATED: { actions: 'countEvaluations' },
  },
  states: {
    idle: {
      on: { START: 'running', STOP: 'stopped' },
    },
    running: {
      invoke: { src: 'clock', input: ({ context }) => ({ periodMs: context.intervalMs }) },
      initial: 'waiting',
      states: {
        waiting: {
          on: {
            TICK: 'cycling',
            STOP: '#alertWorker.stopped',
          },
        },
        cycling: {
          invoke: {
            src: 'cycle',
            input: ({ context }) => ({ n: context.cycles + 1 }),
            onDone: {
              actions: [
                { type: 'applyCycle', params: ({ event }) => event.output },
                { type: 'reportCycle', params: ({ event }) => event.output },
                'settle',
              ],
            },
            onError: {
              actions: [
                { type: 'countCycleError', params: ({ event }) => ({ error: event.error }) },
                { type: 'reportCycleError', params: ({ event }) => ({ error: event.error }) },
                'settle',
              ],
            },
          },
          initial: 'inFlight',
          states: {
            inFlight: { on: { STOP: 'stopping', SETTLED: '#alertWorker.running.waiting' } },
            stopping: { on: { SETTLED: '#alertWorker.stopped' } },
          },
        },
      },
    },
    stopped: { type: 'final' },
  },
});
