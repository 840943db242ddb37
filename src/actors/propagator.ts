import { assign, fromPromise, raise, setup } from 'xstate';
import type { Tick } from '../streams/ticks.ts';
import { clock } from './clock.ts';
import type { SettledEvent } from './drain.ts';
import { messageOf } from '../errors.ts';

/** What the propagator is created with. */
export interface PropagatorInput {
  periodMs: number;
  /** How many payloads the file holds; they are sent round robin. */
  payloadCount: number;
  /** Probe the health endpoint (until it answers) before the first send. */
  healthCheck: boolean;
  /** How long a stop waits for the request in flight before aborting it (default 4 s). */
  stopGraceMs?: number;
}

export interface PropagatorContext {
  periodMs: number;
  payloadCount: number;
  healthCheck: boolean;
  stopGraceMs: number;
  /** Index of the payload the next tick sends. */
  nextIndex: number;
  /** Requests completed (succeeded or failed). */
  count: number;
  succeeded: number;
  failed: number;
  /** Ticks that came while a send was still in flight. */
  skipped: number;
  lastStatus: number | null;
  lastJitterMs: number | null;
  lastError: string | null;
}

/** What one send is given: the payload to POST and the tick (its slot and jitter) that triggered it. */
export interface SendRequest {
  index: number;
  tick: Tick;
}

/** A send that got a 2xx answer, possibly after retries. */
export interface SendResult {
  status: number;
  attempts: number;
}

/** What the runtime logs after each response. */
export interface ResponseReport {
  ok: boolean;
  status: number | null;
  jitterMs: number;
  count: number;
  failureRate: number;
  attempts?: number;
  error?: string;
}

export type PropagatorEvent = { type: 'START' } | { type: 'STOP' } | { type: 'TICK'; tick: Tick };

type SendEvent = Extract<PropagatorEvent, { type: 'TICK' }>;

/**
 * The event propagator: after an optional health check, POSTs the next payload on every tick of a
 * drift-free clock. The send effect retries transient errors with backoff but gives up before the
 * next slot, so the schedule never slips; a tick that still finds a send in flight is counted as
 * skipped. A stop lets the request in flight finish, or aborts it after `stopGraceMs`.
 */
export const propagatorMachine = setup({
  types: {
    context: {} as PropagatorContext,
    input: {} as PropagatorInput,
    events: {} as PropagatorEvent | SettledEvent,
  },
  actors: {
    clock,
    // Provided by the runtime: resolves once the health endpoint answers 2xx (retrying with backoff).
    checkHealth: fromPromise<void>(async () => {}),
    // Provided by the runtime: POSTs payload `index`, retrying transient errors until the next slot.
    send: fromPromise<SendResult, SendRequest>(async () => {
      throw new Error('propagator: the send actor was not provided');
    }),
  },
  actions: {
    recordTick: assign({
      lastJitterMs: (_, params: { tick: Tick }) => params.tick.jitterMs,
    }),
    advance: assign({ nextIndex: ({ context }) => (context.nextIndex + 1) % context.payloadCount }),
    countSuccess: assign({
      count: ({ context }) => context.count + 1,
      succeeded: ({ context }) => context.succeeded + 1,
      lastStatus: (_, result: SendResult) => result.status,
      lastError: () => null,
    }),
    countFailure: assign({
      count: ({ context }) => context.count + 1,
      failed: ({ context }) => context.failed + 1,
      lastStatus: (_, params: { error: unknown }) => (params.error as { status?: number })?.status ?? null,
      lastError: (_, params: { error: unknown }) => messageOf(params.error),
    }),
    countSkipped: assign({ skipped: ({ context }) => context.skipped + 1 }),
    settle: raise({ type: 'SETTLED' }),
    // Provided by the runtime: logs and measures each response, each skipped tick.
    reportResponse: (_, _report: ResponseReport) => {},
    reportSkipped: (_, _params: { n: number }) => {},
  },
  guards: {
    healthCheckFirst: ({ context }) => context.healthCheck,
  },
  delays: {
    stopGrace: ({ context }) => context.stopGraceMs,
  },
}).createMachine({
  id: 'propagator',
  initial: 'idle',
  context: ({ input }) => ({
    periodMs: input.periodMs,
    payloadCount: input.payloadCount,
    healthCheck: input.healthCheck,
    stopGraceMs: input.stopGraceMs ?? 4_000,
    nextIndex: 0,
    count: 0,
    succeeded: 0,
    failed: 0,
    skipped: 0,
    lastStatus: null,
    lastJitterMs: null,
    lastError: null,
  }),
  states: {
    idle: {
      on: {
        START: [{ guard: 'healthCheckFirst', target: 'checkingHealth' }, { target: 'running' }],
        STOP: 'stopped',
      },
    },
    checkingHealth: {
      invoke: { src: 'checkHealth', onDone: 'running', onError: 'checkingHealth' },
      on: { STOP: 'stopped' },
    },
    running: {
      invoke: { src: 'clock', input: ({ context }) => ({ periodMs: context.periodMs }) },
      initial: 'waiting',
      states: {
        waiting: {
          on: {
            TICK: { target: 'sending', actions: { type: 'recordTick', params: ({ event }) => ({ tick: event.tick }) } },
            STOP: '#propagator.stopped',
          },
        },
        sending: {
          invoke: {
            src: 'send',
            input: ({ context, event }) => ({ index: context.nextIndex, tick: (event as SendEvent).tick }),
            onDone: {
              actions: [
                { type: 'countSuccess', params: ({ event }) => event.output },
                {
                  type: 'reportResponse',
                  params: ({ context, event }) => ({
                    ok: true,
                    status: event.output.status,
                    attempts: event.output.attempts,
                    jitterMs: context.lastJitterMs ?? 0,
                    count: context.count,
                    failureRate: context.failed / context.count,
                  }),
                },
                'advance',
                'settle',
              ],
            },
            onError: {
              actions: [
                { type: 'countFailure', params: ({ event }) => ({ error: event.error }) },
                {
                  type: 'reportResponse',
                  params: ({ context }) => ({
                    ok: false,
                    status: context.lastStatus,
                    error: context.lastError ?? 'failed',
                    jitterMs: context.lastJitterMs ?? 0,
                    count: context.count,
                    failureRate: context.failed / context.count,
                  }),
                },
                'advance',
                'settle',
              ],
            },
          },
          on: {
            TICK: { actions: ['countSkipped', { type: 'reportSkipped', params: ({ event }) => ({ n: event.tick.n }) }] },
          },
          initial: 'inFlight',
          states: {
            inFlight: { on: { STOP: 'stopping', SETTLED: '#propagator.running.waiting' } },
            // Leaving `sending` cancels the send, which aborts its request.
            stopping: {
              after: { stopGrace: '#propagator.stopped' },
              on: { SETTLED: '#propagator.stopped' },
            },
          },
        },
      },
    },
    stopped: { type: 'final' },
  },
});
