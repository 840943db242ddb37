import { EMPTY } from 'rxjs';
import { assign, fromEventObservable, fromPromise, raise, setup } from 'xstate';
import type { Batch } from '../streams/broker.ts';
import { emptyRing, pushAll, type RingBuffer } from '../streams/ring-buffer.ts';
import type { SeenMessage } from '../storage/store.ts';
import type { SettledEvent } from './drain.ts';
import { messageOf } from '../errors.ts';

/** What the subscriber is created with; `restored` refills the buffer from a persisted snapshot. */
export interface SubscriberInput {
  bufferSize: number;
  topics: string[];
  restored?: Partial<SubscriberContext>;
}

export interface SubscriberContext {
  topics: string[];
  /** The last `bufferSize` system alerts received, oldest first. */
  buffer: RingBuffer<SeenMessage>;
  received: number;
  batches: number;
  handlerErrors: number;
  deadLettered: number;
  lastReceivedAt: string | null;
  lastError: string | null;
}

export type SubscriberEvent = { type: 'START' } | { type: 'STOP' } | { type: 'BATCH'; batch: Batch };

/** What handling one batch produced: buffered messages, and messages routed to a handler that failed. */
export interface BatchOutcome {
  buffered: SeenMessage[];
  routed: number;
  handlerErrors: number;
  deadLettered: number;
  lastError: string | null;
}

/**
 * The subscriber: consumes its topics in batches, keeps the last system alerts in a bounded ring
 * buffer and routes other topics to their handlers. A batch is acknowledged only once handled; a
 * handler error is counted and dead-lettered, and consumption goes on.
 */
export const subscriberMachine = setup({
  types: {
    context: {} as SubscriberContext,
    input: {} as SubscriberInput,
    events: {} as SubscriberEvent | SettledEvent,
  },
  actors: {
    // Provided by the runtime: the broker's batches for the subscriber's topics, as BATCH events.
    batches: fromEventObservable<SubscriberEvent, { topics: string[] }>(() => EMPTY),
    // Provided by the runtime: persists, routes and acknowledges one batch.
    handleBatch: fromPromise<BatchOutcome, Batch>(async () => {
      throw new Error('subscriber: the handleBatch actor was not provided');
    }),
  },
  actions: {
    applyOutcome: assign(({ context }, outcome: BatchOutcome) => ({
      buffer: outcome.buffered.length > 0 ? pushAll(context.buffer, outcome.buffered) : context.buffer,
      received: context.received + outcome.buffered.length + outcome.routed,
      batches: context.batches + 1,
      handlerErrors: context.handlerErrors + outcome.handlerErrors,
      deadLettered: context.deadLettered + outcome.deadLettered,
      lastReceivedAt: new Date().toISOString(),
      lastError: outcome.lastError ?? context.lastError,
    })),
    countBatchError: assign({
      handlerErrors: ({ context }) => context.handlerErrors + 1,
      lastError: (_, params: { error: unknown }) => messageOf(params.error),
    }),
    settle: raise({ type: 'SETTLED' }),
    // Provided by the runtime: logs a batch that could not be handled (it will be delivered again).
    reportBatchError: (_, _params: { error: unknown }) => {},
  },
}).createMachine({
  id: 'subscriber',
  initial: 'idle',
  context: ({ input }) => {
    const restored = input.restored?.buffer?.items ?? [];
    return {
      topics: input.topics,
      buffer: pushAll(emptyRing<SeenMessage>(input.bufferSize), restored.slice(-input.bufferSize)),
      received: input.restored?.received ?? 0,
      batches: input.restored?.batches ?? 0,
      handlerErrors: input.restored?.handlerErrors ?? 0,
      deadLettered: input.restored?.deadLettered ?? 0,
      lastReceivedAt: input.restored?.lastReceivedAt ?? null,
      lastError: null,
    };
  },
  states: {
    idle: {
      on: { START: 'running', STOP: 'stopped' },
    },
    running: {
      invoke: { src: 'batches', input: ({ context }) => ({ topics: context.topics }) },
      initial: 'waiting',
      states: {
        waiting: {
          on: {
            BATCH: 'handling',
            STOP: '#subscriber.stopped',
          },
        },
        handling: {
          invoke: {
            src: 'handleBatch',
            input: ({ event }) => (event as Extract<SubscriberEvent, { type: 'BATCH' }>).batch,
            onDone: { actions: [{ type: 'applyOutcome', params: ({ event }) => event.output }, 'settle'] },
            onError: {
              actions: [
                { type: 'countBatchError', params: ({ event }) => ({ error: event.error }) },
                { type: 'reportBatchError', params: ({ event }) => ({ error: event.error }) },
                'settle',
              ],
            },
          },
          initial: 'inFlight',
          states: {
            inFlight: { on: { STOP: 'stopping', SETTLED: '#subscriber.running.waiting' } },
            stopping: { on: { SETTLED: '#subscriber.stopped' } },
          },
        },
      },
    },
    stopped: { type: 'final' },
  },
});
