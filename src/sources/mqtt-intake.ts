import type { TemplateLevel } from '../config/mqtt.ts';
import type { Issue } from '../errors.ts';
import type { Logger } from '../ports/logger.ts';
import { messageReading } from './mqtt-message.ts';

/** What the source does with a message's reading: accepted, or rejected naming why. */
export type MqttOutcome = 'accepted' | 'rejected' | 'failed';

/** Options of the intake: where readings go and what to do when storing an acknowledged message fails. */
export interface MqttIntakeOptions {
  /**
   * Takes readings and resolves with the ones refused once the accepted ones are stored (and,
   * with `durable`, their alert writes too): a QoS 1 message is acknowledged only then.
   */
  ingest(readings: unknown[], options: { durable: boolean }): Promise<{ rejected: { index: number; issue: Issue }[] }>;
  /** Called with what became of `count` messages (metrics). */
  onMessage?(outcome: MqttOutcome, count: number): void;
  template: readonly TemplateLevel[];
  logger: Logger;
  /** Drops the connection, so the broker redelivers the messages left unacknowledged. */
  reconnect(): void;
}

/** Messages gathered for one ingest: their readings (with the topic of each) and, at QoS 1, their acknowledgements in arrival order. */
interface Batch {
  readings: unknown[];
  topics: string[];
  acks: (() => void)[];
}

const emptyBatch = (): Batch => ({ readings: [], topics: [], acks: [] });

/**
 * What the MQTT source does with its messages: the readings of the messages read so far are
 * ingested together. QoS 0 batches may overlap; QoS 1 batches go one at a time, each acknowledged
 * (every message, in arrival order) only once its readings are committed, and the next batch
 * gathers meanwhile. A batch that fails to store is not acknowledged: the source reconnects and the
 * broker redelivers it. Bad messages are counted, logged and acknowledged with their batch (a
 * redelivery would be just as bad).
 */
export class MqttIntake {
  private loose = emptyBatch();
  private looseQueued = false;
  private held = emptyBatch();
  private storing = false;
  /** Ingests not finished yet: a stop waits for them, so their acknowledgements still go out. */
  private readonly working = new Set<Promise<unknown>>();

  constructor(private readonly options: MqttIntakeOptions) {}

  /** A QoS 0 message: its reading joins the batch ingested once the messages read so far are handled. */
  take(topic: string, payload: Uint8Array): void {
    if (!this.add(this.loose, topic, payload) || this.looseQueued) return;
    this.looseQueued = true;
    setImmediate(() => this.flushLoose());
  }

  /** A QoS 1 message: `ack` is called once its reading is committed (or at once after earlier ones, when it holds none). */
  hold(topic: string, payload: Uint8Array, ack: () => void): void {
    this.add(this.held, topic, payload);
    this.held.acks.push(ack);
    if (!this.storing) {
      this.storing = true;
      setImmediate(() => void this.flushHeld());
    }
  }

  /** Ingests the readings gathered so far and waits for every ingest in hand (their acknowledgements go out). */
  async finish(): Promise<void> {
    if (this.loose.readings.length > 0) this.flushLoose();
    await Promise.allSettled([...this.working]);
    while (this.storing) await new Promise((resolve) => setImmediate(resolve));
  }

  private flushLoose(): void {
    const { ingest, onMessage, logger } = this.options;
    this.looseQueued = false;
    const batch = this.loose;
    this.loose = emptyBatch();
    if (batch.readings.length === 0) return;
    this.track(ingest(batch.readings, { durable: false })).then(
      ({ rejected }) => this.report(batch, rejected),
      (error: unknown) => {
        logger.error({ err: error, readings: batch.readings.length }, 'mqtt readings failed to store');
        onMessage?.('failed', batch.readings.length);
      },
    );
  }

  /** Stores the held batch, acknowledges it, and goes on with the one gathered meanwhile. */
  private async flushHeld(): Promise<void> {
    const { ingest, onMessage, logger } = this.options;
    while (this.held.acks.length > 0) {
      const batch = this.held;
      this.held = emptyBatch();
      try {
        const { rejected } = batch.readings.length > 0 ? await this.track(ingest(batch.readings, { durable: true })) : { rejected: [] };
        this.report(batch, rejected);
        for (const ack of batch.acks) ack();
      } catch (error) {
        onMessage?.('failed', batch.readings.length);
        logger.error({ err: error, readings: batch.readings.length }, 'mqtt readings failed to store; not acknowledged, reconnecting for redelivery');
        this.options.reconnect();
      }
    }
    this.storing = false;
  }

  /** Adds the message's reading to `batch`; false after counting and logging why it holds none. */
  private add(batch: Batch, topic: string, payload: Uint8Array): boolean {
    const read = messageReading(this.options.template, topic, payload);
    if ('reading' in read) {
      batch.readings.push(read.reading);
      batch.topics.push(topic);
      return true;
    }
    this.options.onMessage?.('rejected', 1);
    this.options.logger.warn({ topic, field: read.issue.path, reason: read.issue.message }, 'mqtt message rejected');
    return false;
  }

  private report(batch: Batch, rejected: { index: number; issue: Issue }[]): void {
    const { onMessage, logger } = this.options;
    for (const { index, issue } of rejected) logger.warn({ topic: batch.topics[index], field: issue.path, reason: issue.message }, 'mqtt reading rejected');
    if (batch.readings.length > rejected.length) onMessage?.('accepted', batch.readings.length - rejected.length);
    if (rejected.length > 0) onMessage?.('rejected', rejected.length);
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.working.add(work);
    void work.finally(() => this.working.delete(work)).catch(() => {});
    return work;
  }
}
