import { concatMap, map, Observable } from 'rxjs';
import { createActor, fromEventObservable, fromPromise } from 'xstate';
import { subscriberMachine, type BatchOutcome, type SubscriberContext, type SubscriberEvent } from '../actors/subscriber.ts';
import { deadLetterTopic, TOPICS, type Batch, type Broker, type BrokerMessage } from '../streams/broker.ts';
import type { SeenMessage } from '../storage/store.ts';
import { actorConcern, type Concern } from './concern.ts';
import type { RuntimeContext } from './context.ts';
import type { RejectedMessage, TopicHandler } from './topic-handler.ts';
import { messageOf, StoreError } from '../errors.ts';

/** A failure of the store that says nothing of the messages: one that may pass, or a store closed by a stop. */
const storeUnavailable = (error: unknown): boolean => error instanceof StoreError && (error.retriable || error.code === 'STORE_CLOSED');

/**
 * Hands batches to the machine one at a time: the next batch is released only once the previous one
 * was acknowledged or rejected, so a machine busy handling never sees (and never drops) a second one.
 */
export function oneBatchAtATime(): (source: Observable<Batch>) => Observable<Batch> {
  return concatMap(
    (batch) =>
      new Observable<Batch>((subscriber) => {
        // The handler acks from inside its promise, before the machine has left `handling`: releasing the
        // next batch synchronously would send BATCH to a machine that drops it (and stalls that partition).
        // A macrotask runs after the promise's settlement has been processed by the machine.
        const settle = () => setTimeout(() => subscriber.complete(), 0);
        subscriber.next({
          ...batch,
          ack: () => {
            batch.ack();
            settle();
          },
          nack: (error) => {
            batch.nack(error);
            settle();
          },
        });
      }),
  );
}

/**
 * BATCH_WAIT_MS batches the system-alerts heartbeats only: a message of a handled topic (device
 * readings above all) is handled as soon as it is fetched, a batch being what one fetch returned.
 */
function handledAsFetched(topics: string[]): Record<string, number> {
  return Object.fromEntries(topics.filter((topic) => topic !== TOPICS.systemAlerts).map((topic) => [topic, 0]));
}

/** The subscriber concern, and its buffer of `system-alerts` messages, oldest first (`GET /messages`). */
export interface SubscriberConcern extends Concern {
  messages(): SeenMessage[];
}

type SubscriberDeps = Pick<RuntimeContext, 'config' | 'logger' | 'store' | 'broker' | 'registry' | 'runs' | 'inspect'>;

/**
 * The subscriber concern: its actor consumes `system-alerts` and the topics of `handlers`, persists,
 * routes and dead-letters; it reports each batch.
 */
export function subscriberConcern(ctx: SubscriberDeps, handlers: ReadonlyMap<string, TopicHandler> = new Map()): SubscriberConcern {
  const concern = actorConcern({
    id: 'subscriber',
    kind: 'subscriber',
    ctx,
    create: (restored) => createSubscriber(ctx, handlers, restored as Partial<SubscriberContext> | undefined),
  });
  return {
    name: concern.name,
    start: concern.start,
    stop: concern.stop,
    messages: () => (concern.actor?.getSnapshot().context as SubscriberContext | undefined)?.buffer.items ?? [],
  };
}

function createSubscriber(ctx: SubscriberDeps, handlers: ReadonlyMap<string, TopicHandler>, restored: Partial<SubscriberContext> | undefined) {
  const { broker, store } = ctx;
  const logger = ctx.logger.child({ actor: 'subscriber' });
  const topics = [TOPICS.systemAlerts, ...handlers.keys()];

  async function deadLetter(rejected: RejectedMessage[]): Promise<void> {
    for (const { message, error } of rejected) {
      await broker.publish(deadLetterTopic(message.topic), { error, original: message }, { key: message.key ?? undefined });
    }
  }

  async function handle(batch: Batch): Promise<BatchOutcome> {
    const outcome: BatchOutcome = { buffered: [], routed: 0, handlerErrors: 0, deadLettered: 0, lastError: null };
    if (batch.topic === TOPICS.systemAlerts) {
      const receivedAt = new Date().toISOString();
      outcome.buffered = batch.messages.map((m): SeenMessage => ({ ...m, received_at: receivedAt }));
      await store.messages.record(outcome.buffered);
      for (const m of outcome.buffered) logger.info({ topic: m.topic, partition: m.partition, offset: m.offset, key: m.key }, 'message received');
      return outcome;
    }
    const handler = handlers.get(batch.topic);
    outcome.routed = batch.messages.length;
    let rejected: RejectedMessage[] = [];
    try {
      const result = handler ? await handler(batch.messages) : undefined;
      rejected = result?.rejected ?? [];
    } catch (error) {
      // The store, not the messages, failed (a lock held elsewhere, a connection lost, a stop): the
      // batch is not acknowledged, and the broker delivers it again.
      if (storeUnavailable(error)) throw error;
      const reason = messageOf(error);
      logger.error({ topic: batch.topic, count: batch.messages.length, err: error }, 'topic handler failed; batch dead-lettered');
      outcome.handlerErrors = 1;
      outcome.lastError = reason;
      rejected = batch.messages.map((message: BrokerMessage) => ({ message, error: reason }));
    }
    if (rejected.length > 0) {
      await deadLetter(rejected);
      outcome.deadLettered = rejected.length;
      outcome.lastError ??= rejected[0]!.error;
      logger.warn({ topic: batch.topic, count: rejected.length, reason: rejected[0]!.error }, 'messages dead-lettered');
    }
    logger.debug({ topic: batch.topic, count: batch.messages.length }, 'batch routed');
    return outcome;
  }

  const machine = subscriberMachine.provide({
    actors: {
      batches: fromEventObservable<SubscriberEvent, { topics: string[] }>(({ input }) =>
        broker
          .consume(input.topics, { groupId: ctx.config.kafka?.groupId ?? 'vigil', batchSize: ctx.config.batch.size, batchMs: ctx.config.batch.waitMs, topicBatchMs: handledAsFetched(input.topics) })
          .pipe(oneBatchAtATime(), map((batch): SubscriberEvent => ({ type: 'BATCH', batch }))),
      ),
      handleBatch: fromPromise<BatchOutcome, Batch>(async ({ input: batch }) => {
        try {
          const outcome = await handle(batch);
          batch.ack();
          ctx.runs.report('subscriber', outcome.handlerErrors > 0 ? { ok: false, error: outcome.lastError ?? 'handler failed' } : { ok: true });
          return outcome;
        } catch (error) {
          batch.nack(error);
          ctx.runs.report('subscriber', { ok: false, error: messageOf(error) });
          throw error;
        }
      }),
    },
    actions: {
      reportBatchError: (_, { error }) => logger.error({ err: error }, 'batch not handled; it will be delivered again'),
    },
  });
  const actor = createActor(machine, {
    id: 'subscriber',
    inspect: ctx.inspect,
    input: { bufferSize: ctx.config.bufferSize, topics, restored },
  });
  return { machine, actor };
}
