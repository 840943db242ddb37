import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { MqttConfig } from '../config/mqtt.ts';
import type { Logger } from '../ports/logger.ts';
import { backoffDelay } from '../streams/backoff.ts';
import { MqttIntake, type MqttIntakeOptions } from './mqtt-intake.ts';

/** How long the broker keeps a persistent session (MQTT_CLEAN_SESSION=false) after a disconnect: one day. */
export const SESSION_EXPIRY_SECONDS = 86_400;

/**
 * How many QoS 1 messages the broker may send ahead of their acknowledgements (MQTT 5 Receive
 * Maximum): the most a batch can hold. Mosquitto otherwise allows 20 (max_inflight_messages).
 */
export const RECEIVE_MAXIMUM = 1_000;

/** Why mqtt.js is told not to acknowledge a QoS 1 message itself: the intake acknowledges it after the commit. */
const HELD = new Error('acknowledged by the MQTT source once its reading is committed');

/** Options of `createMqttSource`. */
export interface MqttSourceOptions extends Pick<MqttIntakeOptions, 'ingest' | 'onMessage'> {
  config: MqttConfig;
  logger: Logger;
  /** Reconnect waits: 500 ms doubling up to 30 s by default. */
  backoff?: { initialMs: number; maxMs: number };
}

/** The connection's state, as readiness shows it. */
export interface MqttHealth {
  ok: boolean;
  detail?: string;
}

/**
 * Readings from MQTT: subscribes to the configured topics and feeds the messages to `ingest` in
 * batches. QoS 1 messages are acknowledged (PUBACK) only after `ingest` has stored their readings:
 * mqtt.js is told not to acknowledge them (its `handleMessage` hook fails them) and the source sends
 * each PUBACK itself, in arrival order, once the batch is committed; bad messages are counted, logged and acknowledged (a redelivery
 * would be just as bad). The client reconnects with a growing wait and resubscribes.
 */
export function createMqttSource(options: MqttSourceOptions): MqttSource {
  return new MqttSource(options);
}

/** The MQTT reading source of one runtime: its connection, subscriptions and reconnect waits. */
export class MqttSource {
  private readonly config: MqttConfig;
  private readonly logger: Logger;
  private readonly backoff: { initialMs: number; maxMs: number };
  private readonly intake: MqttIntake;
  private client: MqttClient | undefined;
  private attempts = 0;
  private lastError: string | undefined;
  /** Called once subscribed (or once the first attempt failed): `start` waits for it. */
  private settled: (() => void) | undefined;

  constructor(options: MqttSourceOptions) {
    this.config = options.config;
    this.logger = options.logger;
    this.backoff = { initialMs: 500, maxMs: 30_000, ...options.backoff };
    this.intake = new MqttIntake({
      template: options.config.template,
      logger: options.logger,
      ingest: options.ingest,
      onMessage: options.onMessage,
      reconnect: () => this.client?.stream?.destroy(),
    });
  }

  /**
   * Connects and subscribes; resolves once subscribed, or on the first failure to connect. A broker
   * that is down does not stop the runtime: the client keeps retrying and readiness says not connected.
   */
  async start(): Promise<void> {
    const subscribed = new Promise<void>((resolve) => {
      this.settled = () => {
        this.settled = undefined;
        resolve();
      };
    });
    const c = mqtt.connect(this.config.url, this.clientOptions());
    this.client = c;
    this.listen(c);
    await subscribed;
    if (!c.connected) this.logger.warn({ url: this.config.url, reason: this.lastError }, 'mqtt not connected yet; retrying');
  }

  /** Stops taking messages, finishes the ones in hand (their acknowledgements go out), then disconnects. */
  async stop(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (!c) return;
    await this.intake.finish();
    await c.endAsync(false);
  }

  /** Whether the client is connected, and if not, the last error. */
  health(): MqttHealth {
    const { url } = this.config;
    if (this.client?.connected) return { ok: true, detail: url };
    return { ok: false, detail: this.lastError ? `not connected to ${url}: ${this.lastError}` : `not connected to ${url}` };
  }

  private clientOptions(): IClientOptions {
    const { config } = this;
    return {
      // MQTT 5: Receive Maximum lets the broker send a batch's worth of QoS 1 messages before their acknowledgements.
      protocolVersion: 5,
      ...(config.clientId ? { clientId: config.clientId } : {}),
      clean: config.clean,
      // A kept session outlives a disconnect (MQTT 5 ends it at once unless an expiry is given).
      properties: { receiveMaximum: RECEIVE_MAXIMUM, ...(config.clean ? {} : { sessionExpiryInterval: SESSION_EXPIRY_SECONDS }) },
      ...(config.username ? { username: config.username } : {}),
      ...(config.password ? { password: config.password } : {}),
      reconnectPeriod: this.backoff.initialMs,
      connectTimeout: 10_000,
      resubscribe: true,
    };
  }

  private listen(c: MqttClient): void {
    c.on('connect', () => this.connected(c));
    c.on('message', (topic, payload, packet) => {
      if (packet.qos === 0) this.intake.take(topic, payload);
      else this.intake.hold(topic, payload, pubackOf(c, packet));
    });
    // mqtt.js calls this after 'message' and sends the PUBACK when it succeeds; failed, it sends none and reads on.
    c.handleMessage = (packet, done) => done(packet.qos === 1 ? HELD : undefined);
    c.on('error', (error) => {
      this.lastError = error.message;
      this.logger.warn({ err: error }, 'mqtt error');
      this.settled?.();
    });
    c.on('reconnect', () => this.logger.info({ attempt: this.attempts }, 'mqtt reconnecting'));
    c.on('close', () => {
      // The next reconnect waits longer each time (mqtt.js reads reconnectPeriod when it schedules one).
      this.attempts++;
      this.settled?.();
      c.options.reconnectPeriod = Math.max(1, Math.round(backoffDelay(this.attempts, { ...this.backoff, factor: 2, jitter: 0.5 })));
    });
    c.on('offline', () => this.logger.warn({ url: this.config.url }, 'mqtt offline'));
  }

  private connected(c: MqttClient): void {
    const { config, logger } = this;
    this.attempts = 0;
    this.lastError = undefined;
    c.options.reconnectPeriod = this.backoff.initialMs;
    logger.info({ url: config.url, topics: config.topics }, 'mqtt connected');
    c.subscribe(config.topics, { qos: config.qos }, (error) => {
      if (error) {
        this.lastError = `subscribe failed: ${error.message}`;
        logger.error({ err: error, topics: config.topics }, 'mqtt subscribe failed');
      }
      this.settled?.();
    });
  }
}

/**
 * The PUBACK of a QoS 1 message, to send on the connection it came over (MQTT 5, success, no
 * properties: 4 bytes). The acknowledgements of one batch go out in a single write; nothing is sent
 * once that connection is gone: the broker redelivers.
 */
function pubackOf(c: MqttClient, packet: IPublishPacket): () => void {
  const { stream } = c;
  const id = packet.messageId ?? 0;
  return () => {
    if (c.stream !== stream || stream.destroyed || !stream.writable) return;
    let ids = unsent.get(stream);
    if (!ids) {
      unsent.set(stream, (ids = []));
      process.nextTick(() => writePubacks(stream));
    }
    ids.push(id);
  };
}

/** Packet ids whose PUBACK is due, per connection, until the next tick writes them. */
const unsent = new WeakMap<MqttClient['stream'], number[]>();

function writePubacks(stream: MqttClient['stream']): void {
  const ids = unsent.get(stream) ?? [];
  unsent.delete(stream);
  if (stream.destroyed || !stream.writable) return;
  const bytes = Buffer.allocUnsafe(ids.length * 4);
  ids.forEach((id, i) => bytes.set([0x40, 0x02, id >> 8, id & 0xff], i * 4));
  stream.write(bytes);
}
