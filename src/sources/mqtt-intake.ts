import type { TemplateLevel } from '../config/mqtt.ts';
import { messageOf, type Issue } from '../errors.ts';
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
  /** Drops the connection, so the broker redelivers a message left unacknowledged. */
  reconnect(): void;
}

/**
 * What the MQTT source does with its messages: QoS 0 readings are gathered and ingested together;
 * a QoS 1 message is stored first and acknowledged after. Bad messages are counted, logged and
 * acknowledged (a redelivery would be just as bad).
 */
export class MqttIntake {
  private pending: unknown[] = [];
  private flushing = false;
  /** Ingests not finished yet: a stop waits for them, so their acknowledgements still go out. */
  private readonly working = new Set<Promise<unknown>>();

  constructor(private readonly options: MqttIntakeOptions) {}

  /** A QoS 0 message: its reading joins the batch ingested once the messages read so far are handled. */
  take(topic: string, payload: Buffer): void {
    const reading = this.readingOf(topic, payload);
    if (reading === undefined) return;
    this.pending.push(reading);
    if (!this.flushing) {
      this.flushing = true;
      setImmediate(() => this.flush());
    }
  }

  /** QoS 1: stored first, acknowledged after; a failed store leaves the message unacknowledged and reconnects, so the broker redelivers it. */
  acked(topic: string, payload: Buffer, ack: (error: Error | number, code?: number) => void): void {
    const { ingest, onMessage, logger } = this.options;
    const reading = this.readingOf(topic, payload);
    if (reading === undefined) return ack(0);
    this.track(ingest([reading], { durable: true })).then(
      ({ rejected }) => {
        this.report(topic, rejected);
        ack(0);
      },
      (error: unknown) => {
        onMessage?.('failed', 1);
        logger.error({ err: error, topic }, 'mqtt reading failed to store; not acknowledged, reconnecting for redelivery');
        ack(error instanceof Error ? error : new Error(messageOf(error)));
        this.options.reconnect();
      },
    );
  }

  /** Ingests the readings gathered so far and waits for every ingest in hand. */
  async finish(): Promise<void> {
    if (this.pending.length > 0) this.flush();
    await Promise.allSettled([...this.working]);
  }

  private flush(): void {
    const { ingest, onMessage, logger } = this.options;
    this.flushing = false;
    const batch = this.pending;
    this.pending = [];
    this.track(ingest(batch, { durable: false })).then(
      ({ rejected }) => {
        for (const { issue } of rejected) logger.warn({ field: issue.path, reason: issue.message }, 'mqtt reading rejected');
        onMessage?.('accepted', batch.length - rejected.length);
        if (rejected.length > 0) onMessage?.('rejected', rejected.length);
      },
      (error: unknown) => {
        logger.error({ err: error, readings: batch.length }, 'mqtt readings failed to store');
        onMessage?.('failed', batch.length);
      },
    );
  }

  /** The message's raw reading, or undefined after counting and logging why it holds none. */
  private readingOf(topic: string, payload: Buffer): unknown {
    const read = messageReading(this.options.template, topic, payload);
    if ('reading' in read) return read.reading;
    this.options.onMessage?.('rejected', 1);
    this.options.logger.warn({ topic, field: read.issue.path, reason: read.issue.message }, 'mqtt message rejected');
    return undefined;
  }

  private report(topic: string, rejected: { issue: Issue }[]): void {
    for (const { issue } of rejected) this.options.logger.warn({ topic, field: issue.path, reason: issue.message }, 'mqtt reading rejected');
    this.options.onMessage?.(rejected.length > 0 ? 'rejected' : 'accepted', 1);
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.working.add(work);
    void work.finally(() => this.working.delete(work)).catch(() => {});
    return work;
  }
}
