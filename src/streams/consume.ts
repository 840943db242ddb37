import { concatMap, type Observable } from 'rxjs';
import type { Batch, Broker, ConsumeOptions } from './broker.ts';

/** What a batch handler sees: the messages, not the acknowledgement, which `consumeBatches` owns. */
export type BatchContent = Pick<Batch, 'topic' | 'partition' | 'messages'>;

/** The outcome of handling one batch. */
export interface BatchResult {
  topic: string;
  partition: number;
  /** Messages in the batch. */
  count: number;
  /** True when the handler resolved and the batch was acknowledged; false when it was nacked. */
  ok: boolean;
  /** Why the handler failed, when it did. */
  error?: unknown;
}

/**
 * Consumes `topics` as `options.groupId`, running `handler` on one batch at a time: the batch is
 * acknowledged when the handler resolves and nacked (so delivered again) when it rejects or throws.
 * Emits one result per batch; a failing handler never ends the stream. Delivery is at least once:
 * unsubscribing while a handler runs leaves its batch unacknowledged, and it goes to the next member.
 */
export function consumeBatches(
  broker: Broker,
  topics: string[],
  options: ConsumeOptions,
  handler: (batch: BatchContent) => Promise<void>,
): Observable<BatchResult> {
  return broker.consume(topics, options).pipe(
    concatMap(async (batch): Promise<BatchResult> => {
      const { topic, partition, messages } = batch;
      const count = messages.length;
      try {
        await handler({ topic, partition, messages });
      } catch (error) {
        batch.nack(error);
        return { topic, partition, count, ok: false, error };
      }
      batch.ack();
      return { topic, partition, count, ok: true };
    }),
  );
}
