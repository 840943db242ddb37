import { assign, fromPromise, raise, setup } from 'xstate';
import type { PublishReceipt } from '../streams/broker.ts';
import type { Tick } from '../streams/ticks.ts';
import { clock } from './clock.ts';
import type { SettledEvent } from './drain.ts';
import { messageOf } from '../errors.ts';

/** What the publisher is created with; `restored` carries counts over from a persisted snapshot. */
export interface PublisherInput {
  periodMs: number;
  restored?: Partial<PublisherContext>;
}

export interface PublisherContext {
  periodMs: number;
  published: number;
  failed: number;
  /** Ticks that arrived while the previous publication was still in flight. */
  skipped: number;
  lastTick: number;
  lastPublishedAt: string | null;
  lastError: string | null;
}

export type PublisherEvent = { type: 'START' } | { type: 'STOP' } | { type: 'TICK'; tick: Tick };

/** What one publication is given: the tick that triggered it. */
export interface PublishRequest {
  tick: Tick;
}

/**
 * The periodic system-alert publisher: on every tick it publishes one `periodic_check` message.
 * A failed publication is counted and the next tick still runs; a stop waits for the one in flight.
 */
export const publisherMachine = setup({
  types: {
    context: {} as PublisherContext,
    input: {} as PublisherInput,
    events: {} as PublisherEvent | SettledEvent,
  },
  actors: {
    clock,
    // Provided by the runtime: publishes to the broker.
    publish: fromPromise<PublishReceipt, PublishRequest>(async () => {
      throw new Error('publisher: the publish actor was not provided');
    }),
  },
  actions: {
    countPublished: assign({
      published: ({ context }) => context.published + 1,
      lastPublishedAt: () => new Date().toISOString(),
      lastError: () => null,
    }),
    countFailed: assign({
      failed: ({ context }) => context.failed + 1,
      lastError: (_, params: { error: unknown }) => messageOf(params.error),
    }),
    countSkipped: assign({ skipped: ({ context }) => context.skipped + 1 }),
    recordTick: assign({ lastTick: (_, params: { n: number }) => params.n }),
    settle: raise({ type: 'SETTLED' }),
    // Provided by the runtime: logs and counts each outcome.
    reportPublished: (_, _params: { receipt: PublishReceipt }) => {},
    reportFailed: (_, _params: { error: unknown }) => {},
    reportSkipped: (_, _params: { n: number }) => {},
  },
}).createMachine({
  id: 'publisher',
  initial: 'idle',
  context: ({ input }) => ({
    periodMs: input.periodMs,
    published: input.restored?.published ?? 0,
    failed: input.restored?.failed ?? 0,
    skipped: input.restored?.skipped ?? 0,
    lastTick: 0,
    lastPublishedAt: input.restored?.lastPublishedAt ?? null,
    lastError: null,
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
          on: {
            TICK: { target: 'publishing', actions: { type: 'recordTick', params: ({ event }) => ({ n: event.tick.n }) } },
            STOP: '#publisher.stopped',
          },
        },
        publishing: {
          invoke: {
            src: 'publish',
            input: ({ event }) => ({ tick: (event as Extract<PublisherEvent, { type: 'TICK' }>).tick }),
            onDone: {
              actions: ['countPublished', { type: 'reportPublished', params: ({ event }) => ({ receipt: event.output }) }, 'settle'],
            },
            onError: {
              actions: [
                { type: 'countFailed', params: ({ event }) => ({ error: event.error }) },
                { type: 'reportFailed', params: ({ event }) => ({ error: event.error }) },
                'settle',
              ],
            },
          },
          on: {
            TICK: {
              actions: ['countSkipped', { type: 'reportSkipped', params: ({ event }) => ({ n: event.tick.n }) }],
            },
          },
          initial: 'inFlight',
          states: {
            inFlight: { on: { STOP: 'stopping', SETTLED: '#publisher.running.waiting' } },
            stopping: { on: { SETTLED: '#publisher.stopped' } },
          },
        },
      },
    },
    stopped: { type: 'final' },
  },
});
