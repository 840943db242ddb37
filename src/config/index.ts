import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { CONFIG_KEYS, FIXES, rawSchema, type ConfigKey } from './settings.ts';
import { ConfigError } from '../errors.ts';
import { toMqttConfig, type MqttConfig } from './mqtt.ts';

export { CONFIG_KEYS, DEFAULT_INSPECT_URL, type ConfigKey } from './settings.ts';
export type { MqttConfig } from './mqtt.ts';

export interface KafkaConfig {
  brokers: string[];
  groupId: string;
  clientId: string;
  /** A group with no committed offset starts at the earliest message (KAFKA_AUTO_OFFSET_RESET=earliest) or the next one. */
  fromBeginning: boolean;
  ssl: boolean;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  /** Connection retries of the producer and of each consumer before giving up. */
  maxRetries: number;
  /** Consumer group timings: a member silent for `sessionTimeoutMs` is dropped and its partitions move. */
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  rebalanceTimeoutMs: number;
}

/** Vigil's configuration, validated, with defaults applied. */
export interface Config {
  port: number;
  host: string;
  database: { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };
  kafka: KafkaConfig | null;
  publishIntervalSeconds: number;
  bufferSize: number;
  /** Consumers close a batch at `size` messages or `waitMs` after its first one. */
  batch: { size: number; waitMs: number };
  alertIntervalSeconds: number;
  /** How rules are evaluated: on every reading, every interval against the latest stored reading, or both. */
  alertMode: 'both' | 'reactive' | 'interval';
  propagator: { periodSeconds: number; endpoint: string; payloadFile: string; healthCheckEndpoint?: string } | null;
  smtp: { enabled: boolean; host?: string; port: number; user?: string; password?: string; from: string; to: string[] };
  slack: { enabled: boolean; webhookUrl?: string };
  webhook: { enabled: boolean; url?: string };
  /** Outbox delivery: attempts before a row fails over, the de-duplication window, the polling period. */
  notify: { maxAttempts: number; backoffInitialMs: number; repeatIntervalSeconds: number; pollIntervalMs: number };
  analyticsIntervalSeconds: number;
  /** `limit`/`windowMs`/`spec` are RATE_LIMIT_DEFAULT; `classes` the per-route-class limits (reads, writes, admin). */
  rateLimit: { enabled: boolean; limit: number; windowMs: number; spec: string; classes: Record<RouteClass, Rate> };
  /** Largest request body accepted (413 beyond). */
  maxBodyBytes: number;
  /** Largest body of `POST /rules`, which takes rules in bulk (413 beyond). */
  rulesMaxBodyBytes: number;
  apiToken?: string;
  apiTokenReads: boolean;
  cleanupRetentionDays: number;
  logLevel: string;
  /** Log lines as JSON, human-readable (pino-pretty), or `auto`: pretty when stdout is a terminal. */
  logFormat: 'auto' | 'json' | 'pretty';
  /** Stately inspector WebSocket URL when inspection is on. */
  inspect?: string;
  /** The MQTT reading source (set when MQTT_URL is). */
  mqtt: MqttConfig | null;
  /** Inspect short-lived child actors too (promises, callbacks), not only machines. */
  inspectChildren: boolean;
  /** Serve Vigil's own Stately inspector bridge (page and WebSocket) on this port, at inspectHost. */
  inspectPort?: number;
  inspectHost: string;
}

export type ConfigSource = Partial<Record<ConfigKey, unknown>>;

/** The classes of rate-limited routes: GET/HEAD are reads, `/admin/…` is admin, anything else is a write. */
export type RouteClass = 'read' | 'write' | 'admin';

/** A rate: `limit` requests per `windowMs`, as written (`spec`, e.g. `100/minute`). */
export interface Rate {
  limit: number;
  windowMs: number;
  spec: string;
}


const WINDOWS: Record<string, number> = { second: 1_000, minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** Parses `N/unit` (e.g. `100/minute`) into a count and a window. */
export function parseRate(spec: string): { limit: number; windowMs: number } {
  const [count, unit] = spec.split('/');
  return { limit: Number(count), windowMs: WINDOWS[unit ?? 'minute'] ?? 60_000 };
}

/** Reads the optional JSON config file; its keys are the environment names. */
export function readConfigFile(path: string): ConfigSource {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`config file ${path} cannot be read (${(error as Error).message}); check the --config path`, 'config');
  }
  try {
    const data: unknown = JSON.parse(text);
    if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new Error('not a JSON object');
    return data as ConfigSource;
  } catch (error) {
    throw new ConfigError(`config file ${path} is not a JSON object of settings (${(error as Error).message})`, 'config');
  }
}

/** Only the keys Vigil knows, with empty strings treated as unset (as shells often export them). */
function pick(source: Record<string, unknown> | undefined): ConfigSource {
  const out: ConfigSource = {};
  if (!source) return out;
  for (const key of CONFIG_KEYS) {
    const value = source[key];
    if (value !== undefined && value !== '') out[key] = value;
  }
  return out;
}

/** Merges file < env < overrides, validates once, and throws a ConfigError naming the first bad key. */
export function loadConfig(sources: { env?: Record<string, unknown>; file?: ConfigSource; overrides?: ConfigSource } = {}): Config {
  const merged = { ...pick(sources.file), ...pick(sources.env), ...pick(sources.overrides) };
  const parsed = rawSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0] ?? 'config') as ConfigKey;
    const got = merged[key] === undefined ? '' : ` (got ${JSON.stringify(merged[key])})`;
    const fix = FIXES[key] ? `; ${FIXES[key]}` : '';
    throw new ConfigError(`${key}: ${issue.message}${got}${fix}`, key);
  }
  return toConfig(parsed.data);
}

function toConfig(raw: z.output<typeof rawSchema>): Config {
  const propagatorKeys = [raw.PERIOD_IN_SECONDS, raw.HTTP_POST_ENDPOINT, raw.PAYLOAD_FILE_PATH];
  const anyPropagator = propagatorKeys.some((v) => v !== undefined);
  if (anyPropagator && propagatorKeys.some((v) => v === undefined)) {
    const missing = (['PERIOD_IN_SECONDS', 'HTTP_POST_ENDPOINT', 'PAYLOAD_FILE_PATH'] as const).find((k) => raw[k] === undefined)!;
    throw new ConfigError(`${missing}: required when the propagator is configured; set PERIOD_IN_SECONDS, HTTP_POST_ENDPOINT and PAYLOAD_FILE_PATH together`, missing);
  }
  const rateOf = (spec: string): Rate => ({ ...parseRate(spec), spec });
  const defaultRate = rateOf(raw.RATE_LIMIT_DEFAULT);
  return {
    port: raw.PORT,
    host: raw.HOST,
    database: raw.DATABASE_URL.startsWith('sqlite:')
      ? { kind: 'sqlite', path: raw.DATABASE_URL.slice('sqlite:'.length) || './data/vigil.db' }
      : { kind: 'postgres', url: raw.DATABASE_URL },
    kafka: toKafkaConfig(raw),
    publishIntervalSeconds: raw.PUBLISH_INTERVAL_SECONDS,
    bufferSize: raw.BUFFER_SIZE,
    batch: { size: raw.BATCH_SIZE, waitMs: raw.BATCH_WAIT_MS },
    alertIntervalSeconds: raw.ALERT_INTERVAL_SECONDS,
    alertMode: raw.ALERT_MODE,
    propagator: anyPropagator
      ? {
          periodSeconds: raw.PERIOD_IN_SECONDS!,
          endpoint: raw.HTTP_POST_ENDPOINT!,
          payloadFile: raw.PAYLOAD_FILE_PATH!,
          ...(raw.HEALTH_CHECK_ENDPOINT ? { healthCheckEndpoint: raw.HEALTH_CHECK_ENDPOINT } : {}),
        }
      : null,
    smtp: {
      enabled: raw.ENABLE_EMAIL_ALERTS,
      host: raw.SMTP_HOST,
      port: raw.SMTP_PORT,
      user: raw.SMTP_USER,
      password: raw.SMTP_PASSWORD,
      from: raw.SMTP_FROM,
      to: raw.ALERT_EMAILS.split(',').map((e) => e.trim()).filter(Boolean),
    },
    slack: { enabled: raw.ENABLE_SLACK_ALERTS, webhookUrl: raw.SLACK_WEBHOOK_URL },
    webhook: { enabled: raw.ENABLE_WEBHOOK_ALERTS, url: raw.WEBHOOK_URL },
    notify: {
      maxAttempts: raw.NOTIFY_MAX_ATTEMPTS,
      backoffInitialMs: raw.NOTIFY_BACKOFF_INITIAL_MS,
      repeatIntervalSeconds: raw.NOTIFY_REPEAT_INTERVAL_SECONDS,
      pollIntervalMs: raw.NOTIFY_POLL_INTERVAL_MS,
    },
    analyticsIntervalSeconds: raw.ANALYTICS_INTERVAL_SECONDS,
    rateLimit: {
      enabled: raw.ENABLE_RATE_LIMITING,
      ...defaultRate,
      classes: {
        read: raw.RATE_LIMIT_READS ? rateOf(raw.RATE_LIMIT_READS) : defaultRate,
        write: raw.RATE_LIMIT_WRITES ? rateOf(raw.RATE_LIMIT_WRITES) : defaultRate,
        admin: rateOf(raw.RATE_LIMIT_ADMIN),
      },
    },
    maxBodyBytes: raw.MAX_BODY_BYTES,
    rulesMaxBodyBytes: raw.RULES_MAX_BODY_BYTES,
    apiToken: raw.API_TOKEN,
    apiTokenReads: raw.API_TOKEN_READS,
    cleanupRetentionDays: raw.CLEANUP_RETENTION_DAYS,
    logLevel: raw.LOG_LEVEL,
    logFormat: raw.LOG_FORMAT,
    inspect: raw.INSPECT,
    mqtt: toMqttConfig(raw),
    inspectChildren: raw.INSPECT_CHILDREN,
    inspectPort: raw.INSPECT_PORT,
    inspectHost: raw.INSPECT_HOST,
  };
}

function toKafkaConfig(raw: z.output<typeof rawSchema>): KafkaConfig | null {
  if (!raw.KAFKA_BROKERS) return null;
  const mechanism = raw.KAFKA_SASL_MECHANISM;
  if (mechanism && !(raw.KAFKA_SASL_USERNAME && raw.KAFKA_SASL_PASSWORD)) {
    const missing = raw.KAFKA_SASL_USERNAME ? 'KAFKA_SASL_PASSWORD' : 'KAFKA_SASL_USERNAME';
    throw new ConfigError(`${missing}: required when KAFKA_SASL_MECHANISM is set; set KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD`, missing);
  }
  if (raw.KAFKA_HEARTBEAT_INTERVAL_MS >= raw.KAFKA_SESSION_TIMEOUT_MS) {
    throw new ConfigError(
      `KAFKA_HEARTBEAT_INTERVAL_MS: must be below KAFKA_SESSION_TIMEOUT_MS (${raw.KAFKA_SESSION_TIMEOUT_MS}); use a third of it or less, e.g. ${Math.floor(raw.KAFKA_SESSION_TIMEOUT_MS / 4)}`,
      'KAFKA_HEARTBEAT_INTERVAL_MS',
    );
  }
  return {
    brokers: raw.KAFKA_BROKERS.split(',').map((b) => b.trim()).filter(Boolean),
    groupId: raw.KAFKA_GROUP_ID,
    clientId: raw.KAFKA_CLIENT_ID,
    fromBeginning: raw.KAFKA_AUTO_OFFSET_RESET === 'earliest',
    ssl: raw.KAFKA_SSL,
    ...(mechanism ? { sasl: { mechanism, username: raw.KAFKA_SASL_USERNAME!, password: raw.KAFKA_SASL_PASSWORD! } } : {}),
    maxRetries: raw.KAFKA_MAX_RETRIES,
    sessionTimeoutMs: raw.KAFKA_SESSION_TIMEOUT_MS,
    heartbeatIntervalMs: raw.KAFKA_HEARTBEAT_INTERVAL_MS,
    rebalanceTimeoutMs: raw.KAFKA_REBALANCE_TIMEOUT_MS,
  };
}
