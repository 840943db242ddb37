import { map } from 'rxjs';
import { assign, fromEventObservable, fromPromise, setup } from 'xstate';
import type { PublishReceipt } from '../streams/broker.ts';
import { ticks, type Tick } from '../streams/ticks.ts';

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
    context: {} as PublisherContext & { stopRequested: boolean },
    input: {} as PublisherInput,
    events: {} as PublisherEvent,
  },
  actors: {
    clock: fromEventObservable(({ input }: { input: { periodMs: number } }) =>
      ticks(input.periodMs).pipe(map((tick): PublisherEvent => ({ type: 'TICK', tick }))),
    ),
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
      lastError: (_, params: { error: unknown }) => String((params.error as Error)?.message ?? params.error),
    }),
    countSkipped: assign({ skipped: ({ context }) => context.skipped + 1 }),
    recordTick: assign({ lastTick: (_, params: { n: number }) => params.n }),
    requestStop: assign({ stopRequested: true }),
    // Provided by the runtime: logs and counts each outcome.
    reportPublished: (_, _params: { receipt: PublishReceipt }) => {},
    reportFailed: (_, _params: { error: unknown }) => {},
    reportSkipped: (_, _params: { n: number }) => {},
  },
  guards: {
    stopRequested: ({ context }) => context.stopRequested,
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
    stopRequested: false,
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
            onDone: [
              {
                guard: 'stopRequested',
                target: '#publisher.stopped',
                actions: ['countPublished', { type: 'reportPublished', params: ({ event }) => ({ receipt: event.output }) }],
              },
              {
                target: 'waiting',
                actions: ['countPublished', { type: 'reportPublished', params: ({ event }) => ({ receipt: event.output }) }],
              },
            ],
            onError: [
              {
                guard: 'stopRequested',
                target: '#publisher.stopped',
                actions: [
                  { type: 'countFailed', params: ({ event }) => ({ error: event.error }) },
                  { type: 'reportFailed', params: ({ event }) => ({ error: event.error }) },
                ],
              },
              {
                target: 'waiting',
                actions: [
                  { type: 'countFailed', params: ({ event }) => ({ error: event.error }) },
                  { type: 'reportFailed', params: ({ event }) => ({ error: event.error }) },
                ],
              },
            ],
          },
          on: {
            TICK: {
              actions: ['countSkipped', { type: 'reportSkipped', params: ({ event }) => ({ n: event.tick.n }) }],
            },
            STOP: { actions: 'requestStop' },
          },
        },
      },
    },
    stopped: { type: 'final' },
  },
});
