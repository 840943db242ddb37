import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { MqttConfig } from '../config/mqtt.ts';
import { messageOf, type Issue } from '../errors.ts';
import type { Logger } from '../ports/logger.ts';
import { backoffDelay } from '../streams/backoff.ts';
import { messageReading } from './mqtt-message.ts';

/** How long the broker keeps a persistent session (MQTT_CLEAN_SESSION=false) after a disconnect: one day. */
export const SESSION_EXPIRY_SECONDS = 86_400;

/** What the source does with a message's reading: accepted, or rejected naming why. */
export type MqttOutcome = 'accepted' | 'rejected' | 'failed';

/** Options of `createMqttSource`. */
export interface MqttSourceOptions {
  config: MqttConfig;
  logger: Logger;
  /**
   * Takes readings and resolves with the ones refused once the accepted ones are stored (and,
   * with `durable`, their alert writes too): a QoS 1 message is acknowledged only then.
   */
  ingest(readings: unknown[], options: { durable: boolean }): Promise<{ rejected: { index: number; issue: Issue }[] }>;
  /** Called with what became of `count` messages (metrics). */
  onMessage?(outcome: MqttOutcome, count: number): void;
  /** Reconnect waits: 500 ms doubling up to 30 s by default. */
  backoff?: { initialMs: number; maxMs: number };
}

/** The connection's state, as readiness shows it. */
export interface MqttHealth {
  ok: boolean;
  detail?: string;
}

/**
 * Readings from MQTT: subscribes to the configured topics and feeds each message to `ingest`.
 * QoS 1 messages are acknowledged (PUBACK) only after `ingest` has stored their readings, through
 * mqtt.js's `customHandleAcks`; bad messages are counted, logged and acknowledged (a redelivery
 * would be just as bad). The client reconnects with a growing wait and resubscribes.
 */
export function createMqttSource(options: MqttSourceOptions) {
  const { config, logger } = options;
  const backoff = { initialMs: 500, maxMs: 30_000, ...options.backoff };
  let client: MqttClient | undefined;
  let attempts = 0;
  let lastError: string | undefined;
  /** Called once subscribed (or once the first attempt failed): `start` waits for it. */
  let settled: (() => void) | undefined;
  let pending: unknown[] = [];
  let flushing = false;
  /** Ingests not finished yet: a stop waits for them, so their acknowledgements still go out. */
  const working = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>): Promise<T> => {
    working.add(work);
    void work.finally(() => working.delete(work)).catch(() => {});
    return work;
  };

  /** The message's raw reading, or undefined after counting and logging why it holds none. */
  function readingOf(topic: string, payload: Buffer): unknown {
    const read = messageReading(config.template, topic, payload);
    if ('reading' in read) return read.reading;
    options.onMessage?.('rejected', 1);
    logger.warn({ topic, field: read.issue.path, reason: read.issue.message }, 'mqtt message rejected');
    return undefined;
  }

  function report(topic: string, rejected: { issue: Issue }[]): void {
    for (const { issue } of rejected) logger.warn({ topic, field: issue.path, reason: issue.message }, 'mqtt reading rejected');
    options.onMessage?.(rejected.length > 0 ? 'rejected' : 'accepted', 1);
  }

  /** QoS 0: readings are gathered and ingested together once the messages read so far are handled. */
  function flushQos0(): void {
    flushing = false;
    const batch = pending;
    pending = [];
    track(options.ingest(batch, { durable: false })).then(
      ({ rejected }) => {
        for (const { issue } of rejected) logger.warn({ field: issue.path, reason: issue.message }, 'mqtt reading rejected');
        options.onMessage?.('accepted', batch.length - rejected.length);
        if (rejected.length > 0) options.onMessage?.('rejected', rejected.length);
      },
      (error: unknown) => {
        logger.error({ err: error, readings: batch.length }, 'mqtt readings failed to store');
        options.onMessage?.('failed', batch.length);
      },
    );
  }

  /** QoS 1: stored first, acknowledged after; a failed store leaves the message unacknowledged and reconnects, so the broker redelivers it. */
  function handleAcked(topic: string, payload: Buffer, ack: (error: Error | number, code?: number) => void): void {
    const reading = readingOf(topic, payload);
    if (reading === undefined) return ack(0);
    track(options.ingest([reading], { durable: true })).then(
      ({ rejected }) => {
        report(topic, rejected);
        ack(0);
      },
      (error: unknown) => {
        options.onMessage?.('failed', 1);
        logger.error({ err: error, topic }, 'mqtt reading failed to store; not acknowledged, reconnecting for redelivery');
        ack(error instanceof Error ? error : new Error(messageOf(error)));
        client?.stream?.destroy();
      },
    );
  }

  function clientOptions(): IClientOptions {
    return {
      // MQTT 5: mqtt.js honours customHandleAcks (acknowledge after storing) only on protocol 5.
      protocolVersion: 5,
      ...(config.clientId ? { clientId: config.clientId } : {}),
      clean: config.clean,
      // A kept session outlives a disconnect (MQTT 5 ends it at once unless an expiry is given).
      ...(config.clean ? {} : { properties: { sessionExpiryInterval: SESSION_EXPIRY_SECONDS } }),
      ...(config.username ? { username: config.username } : {}),
      ...(config.password ? { password: config.password } : {}),
      reconnectPeriod: backoff.initialMs,
      connectTimeout: 10_000,
      resubscribe: true,
      customHandleAcks: (topic, message, _packet, ack) => handleAcked(topic, message, ack),
    };
  }

  function listen(c: MqttClient): void {
    c.on('connect', () => {
      attempts = 0;
      lastError = undefined;
      c.options.reconnectPeriod = backoff.initialMs;
      logger.info({ url: config.url, topics: config.topics }, 'mqtt connected');
      c.subscribe(config.topics, { qos: config.qos }, (error) => {
        if (error) {
          lastError = `subscribe failed: ${error.message}`;
          logger.error({ err: error, topics: config.topics }, 'mqtt subscribe failed');
        }
        settled?.();
      });
    });
    c.on('message', (topic, payload, packet) => {
      // QoS 1 messages were handled (and acknowledged) in customHandleAcks already.
      if (packet.qos !== 0) return;
      const reading = readingOf(topic, payload);
      if (reading === undefined) return;
      pending.push(reading);
      if (!flushing) {
        flushing = true;
        setImmediate(flushQos0);
      }
    });
    c.on('error', (error) => {
      lastError = error.message;
      logger.warn({ err: error }, 'mqtt error');
      settled?.();
    });
    c.on('reconnect', () => logger.info({ attempt: attempts }, 'mqtt reconnecting'));
    c.on('close', () => {
      // The next reconnect waits longer each time (mqtt.js reads reconnectPeriod when it schedules one).
      attempts++;
      settled?.();
      c.options.reconnectPeriod = Math.max(1, Math.round(backoffDelay(attempts, { ...backoff, factor: 2, jitter: 0.5 })));
    });
    c.on('offline', () => logger.warn({ url: config.url }, 'mqtt offline'));
  }

  return {
    /**
     * Connects and subscribes; resolves once subscribed, or on the first failure to connect. A broker
     * that is down does not stop the runtime: the client keeps retrying and readiness says not connected.
     */
    async start(): Promise<void> {
      const subscribed = new Promise<void>((resolve) => {
        settled = () => {
          settled = undefined;
          resolve();
        };
      });
      const c = mqtt.connect(config.url, clientOptions());
      client = c;
      listen(c);
      await subscribed;
      if (!c.connected) logger.warn({ url: config.url, reason: lastError }, 'mqtt not connected yet; retrying');
    },
    /** Stops taking messages, finishes the ones in hand (their acknowledgements go out), then disconnects. */
    async stop(): Promise<void> {
      const c = client;
      client = undefined;
      if (!c) return;
      if (pending.length > 0) flushQos0();
      await Promise.allSettled([...working]);
      await c.endAsync(false);
    },
    health(): MqttHealth {
      if (client?.connected) return { ok: true, detail: config.url };
      return { ok: false, detail: lastError ? `not connected to ${config.url}: ${lastError}` : `not connected to ${config.url}` };
    },
  };
}

/** The MQTT reading source of one runtime. */
export type MqttSource = ReturnType<typeof createMqttSource>;
