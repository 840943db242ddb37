import { BrokerError, messageOf } from '../../errors.ts';
import type { Logger } from '../../ports/logger.ts';
import { isRetriable, withBackoff, type WithBackoffOptions } from '../backoff.ts';
import type { PublishReceipt } from '../broker.ts';
import type { KafkaLike, ProducerLike } from './kafka-like.ts';

/** Options of the Kafka broker's producer connection. */
export interface ProducerConnectionOptions {
  kafka: KafkaLike;
  logger: Logger;
  /** Connection attempts: backoff and when to give up. */
  retry: WithBackoffOptions;
  /** Aborted when the broker closes: connecting stops, and a producer that connects late is disconnected. */
  closing: AbortSignal;
}

/**
 * The broker's one producer: connected with backoff on first need (and again after giving up),
 * shared by every publish, with the last connection error kept for `health()`.
 */
export class ProducerConnection {
  private producer: ProducerLike | undefined;
  private connecting: Promise<ProducerLike> | undefined;
  private error: string | undefined;

  constructor(private readonly options: ProducerConnectionOptions) {}

  /** The connected producer, if any. */
  get current(): ProducerLike | undefined {
    return this.producer;
  }

  /** Why the producer is not connected, if a connection attempt failed. */
  get lastError(): string | undefined {
    return this.error;
  }

  /** The producer, connecting it with backoff if needed; rejects with KAFKA_UNAVAILABLE once the retries are spent. */
  connect(): Promise<ProducerLike> {
    this.connecting ??= withBackoff((attempt) => this.attempt(attempt), {
      ...this.options.retry,
      signal: this.options.closing,
      onRetry: ({ attempt, delayMs, error }) => {
        this.error = messageOf(error);
        this.options.logger.warn({ attempt, delayMs, err: error }, 'kafka producer connect failed; retrying');
      },
    }).then(
      (connected) => this.connected(connected),
      (error: unknown) => this.gaveUp(error),
    );
    return this.connecting;
  }

  /** Sends one message with acks from all in-sync replicas; a failure is a KAFKA_PUBLISH_FAILED BrokerError. */
  async send(topic: string, key: string | null, json: string): Promise<PublishReceipt> {
    const client = this.producer ?? (await this.connect());
    try {
      // acks = -1 (all in-sync replicas), kafkajs' default, said here: a 202 for a forwarded reading rests on it.
      const [metadata] = await client.send({ topic, messages: [{ key, value: json }], acks: -1 });
      return { topic, partition: metadata.partition, offset: metadata.baseOffset ?? metadata.offset ?? '0' };
    } catch (error) {
      const reason = messageOf(error);
      throw new BrokerError(`publish to Kafka topic '${topic}' failed: ${reason}`, { code: 'KAFKA_PUBLISH_FAILED', retriable: isRetriable(error), cause: error });
    }
  }

  /** Disconnects the producer, if one is connected. */
  disconnect(): Promise<void> | undefined {
    return this.producer?.disconnect();
  }

  private async attempt(attempt: number): Promise<ProducerLike> {
    this.options.logger.info({ attempt: attempt + 1 }, 'kafka producer connecting');
    const created = this.options.kafka.producer();
    try {
      await created.connect();
      return created;
    } catch (error) {
      await created.disconnect().catch(() => undefined);
      throw error;
    }
  }

  private connected(producer: ProducerLike): ProducerLike {
    if (this.options.closing.aborted) void producer.disconnect().catch(() => undefined);
    this.producer = producer;
    this.error = undefined;
    this.options.logger.info('kafka producer connected');
    return producer;
  }

  private gaveUp(error: unknown): never {
    this.connecting = undefined;
    this.error = messageOf(error);
    if (!this.options.closing.aborted) this.options.logger.error({ err: error }, 'kafka producer gave up connecting');
    throw new BrokerError(`Kafka producer not connected: ${this.error}`, { code: 'KAFKA_UNAVAILABLE', retriable: true, cause: error });
  }
}
