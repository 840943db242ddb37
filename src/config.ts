import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from './errors.ts';

/** Where `--inspect` connects when given no URL: the default of @statelyai/inspect and of its bridge server. */
export const DEFAULT_INSPECT_URL = 'ws://localhost:8080';

/**
 * Every setting, by the environment name users already know. The same keys are accepted in an
 * optional JSON config file and as CLI flags (`--publish-interval-seconds 1`); flags beat the
 * environment, which beats the file, which beats the defaults below.
 */
const bool = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])]).transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');
const positiveInt = z.coerce.number().int().positive();
const positiveNumber = z.coerce.number().positive();
const optionalText = z.string().trim().min(1).optional();
const rate = z.string().regex(/^\d+\/(second|minute|hour|day)$/, 'must look like 100/minute (N per second, minute, hour or day)');
/** `--inspect` alone (or `true`) means the inspector's default URL; `false` or empty means off. */
const inspectUrl = z
  .union([z.boolean(), z.string()])
  .transform((v) => (v === true || v === 'true' || v === '1' ? DEFAULT_INSPECT_URL : v === false || v === 'false' || v === '0' || v === '' ? undefined : v))
  .pipe(z.string().regex(/^wss?:\/\/\S+$/, 'must be a ws:// or wss:// URL').optional());

const rawSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: z
    .string()
    .regex(/^(sqlite:|postgres(ql)?:\/\/)/, 'must start with sqlite: or postgres://')
    .default('sqlite:./data/vigil.db'),
  KAFKA_BROKERS: optionalText,
  KAFKA_GROUP_ID: z.string().min(1).default('vigil'),
  KAFKA_CLIENT_ID: z.string().min(1).default('vigil'),
  KAFKA_AUTO_OFFSET_RESET: z.enum(['earliest', 'latest']).default('earliest'),
  KAFKA_SSL: bool.default(false),
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  KAFKA_SASL_USERNAME: optionalText,
  KAFKA_SASL_PASSWORD: optionalText,
  KAFKA_MAX_RETRIES: z.coerce.number().int().min(0).max(1_000).default(10),
  PUBLISH_INTERVAL_SECONDS: positiveNumber.default(5),
  BUFFER_SIZE: positiveInt.max(1_000_000).default(100),
  BATCH_SIZE: positiveInt.max(10_000).default(25),
  BATCH_WAIT_MS: positiveInt.max(600_000).default(5_000),
  ALERT_INTERVAL_SECONDS: positiveNumber.default(30),
  ALERT_MODE: z.enum(['both', 'reactive', 'interval']).default('both'),
  PERIOD_IN_SECONDS: positiveInt.optional(),
  HTTP_POST_ENDPOINT: z.url().optional(),
  PAYLOAD_FILE_PATH: optionalText,
  HEALTH_CHECK_ENDPOINT: z.url().optional(),
  SMTP_HOST: optionalText,
  SMTP_PORT: z.coerce.number().int().min(1).max(65535).default(587),
  SMTP_USER: optionalText,
  SMTP_PASSWORD: optionalText,
  SMTP_FROM: z.string().default('vigil@localhost'),
  ALERT_EMAILS: z.string().default(''),
  ENABLE_EMAIL_ALERTS: bool.default(false),
  SLACK_WEBHOOK_URL: z.url().optional(),
  ENABLE_SLACK_ALERTS: bool.default(false),
  WEBHOOK_URL: z.url().optional(),
  ENABLE_WEBHOOK_ALERTS: bool.default(false),
  NOTIFY_MAX_ATTEMPTS: positiveInt.max(100).default(10),
  NOTIFY_BACKOFF_INITIAL_MS: positiveInt.max(600_000).default(1_000),
  NOTIFY_REPEAT_INTERVAL_SECONDS: z.coerce.number().min(0).default(300),
  NOTIFY_POLL_INTERVAL_MS: positiveInt.max(600_000).default(1_000),
  ANALYTICS_INTERVAL_SECONDS: positiveNumber.default(3_600),
  ENABLE_RATE_LIMITING: bool.default(true),
  RATE_LIMIT_DEFAULT: rate.default('100/minute'),
  RATE_LIMIT_READS: rate.optional(),
  RATE_LIMIT_WRITES: rate.optional(),
  RATE_LIMIT_ADMIN: rate.default('10/minute'),
  MAX_BODY_BYTES: positiveInt.max(1 << 30).default(1 << 20),
  API_TOKEN: optionalText,
  API_TOKEN_READS: bool.default(false),
  CLEANUP_RETENTION_DAYS: positiveNumber.default(30),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  INSPECT: inspectUrl.optional(),
});

/** The raw keys, as in the environment. */
export type ConfigKey = keyof z.input<typeof rawSchema>;
export const CONFIG_KEYS = Object.keys(rawSchema.shape) as ConfigKey[];

/** What to do when a key is wrong: appended to its error message. */
const FIXES: Partial<Record<ConfigKey, string>> = {
  PORT: 'use a TCP port number from 0 to 65535',
  DATABASE_URL: 'use sqlite:./data/vigil.db or postgres://user@host:5432/db',
  PUBLISH_INTERVAL_SECONDS: 'use the heartbeat period in seconds, e.g. 5',
  BUFFER_SIZE: 'use a whole number of messages, e.g. 100',
  BATCH_SIZE: 'use a whole number of messages per batch, e.g. 25',
  BATCH_WAIT_MS: 'use the longest wait for a batch to fill, in milliseconds, e.g. 5000',
  ALERT_INTERVAL_SECONDS: 'use the evaluation period in seconds, e.g. 30',
  ALERT_MODE: 'use both (readings and interval), reactive (readings only) or interval (latest stored reading every ALERT_INTERVAL_SECONDS)',
  PERIOD_IN_SECONDS: 'use a whole number of seconds, e.g. 10',
  HTTP_POST_ENDPOINT: 'use an absolute URL such as http://127.0.0.1:8080/events',
  HEALTH_CHECK_ENDPOINT: 'use an absolute URL such as http://127.0.0.1:8080/health',
  RATE_LIMIT_DEFAULT: 'e.g. 100/minute',
  RATE_LIMIT_READS: 'e.g. 300/minute',
  RATE_LIMIT_WRITES: 'e.g. 100/minute',
  RATE_LIMIT_ADMIN: 'e.g. 10/minute',
  MAX_BODY_BYTES: 'use a size in bytes, e.g. 1048576',
  INSPECT: 'use --inspect alone (ws://localhost:8080) or --inspect=ws://host:port',
  LOG_LEVEL: 'use one of fatal, error, warn, info, debug, trace, silent',
  CLEANUP_RETENTION_DAYS: 'use a number of days, e.g. 30',
  KAFKA_AUTO_OFFSET_RESET: 'use earliest or latest',
  KAFKA_SASL_MECHANISM: 'use plain, scram-sha-256 or scram-sha-512',
  KAFKA_MAX_RETRIES: 'use a whole number of connection retries, e.g. 10',
  WEBHOOK_URL: 'use an absolute URL such as https://hooks.example.com/vigil',
  NOTIFY_MAX_ATTEMPTS: 'use a whole number of delivery attempts, e.g. 5',
  NOTIFY_REPEAT_INTERVAL_SECONDS: 'use the seconds within which a repeated notification is suppressed, e.g. 300 (0 = never)',
  NOTIFY_POLL_INTERVAL_MS: 'use the outbox polling period in milliseconds, e.g. 1000',
  NOTIFY_BACKOFF_INITIAL_MS: 'use the wait before the first retry of a notification, in milliseconds, e.g. 1000',
  ANALYTICS_INTERVAL_SECONDS: 'use the analytics snapshot period in seconds, e.g. 3600',
};

/** Where Kafka is and how to reach it (set when KAFKA_BROKERS is). */
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
  apiToken?: string;
  apiTokenReads: boolean;
  cleanupRetentionDays: number;
  logLevel: string;
  /** Stately inspector WebSocket URL when inspection is on. */
  inspect?: string;
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
    apiToken: raw.API_TOKEN,
    apiTokenReads: raw.API_TOKEN_READS,
    cleanupRetentionDays: raw.CLEANUP_RETENTION_DAYS,
    logLevel: raw.LOG_LEVEL,
    inspect: raw.INSPECT,
  };
}

function toKafkaConfig(raw: z.output<typeof rawSchema>): KafkaConfig | null {
  if (!raw.KAFKA_BROKERS) return null;
  const mechanism = raw.KAFKA_SASL_MECHANISM;
  if (mechanism && !(raw.KAFKA_SASL_USERNAME && raw.KAFKA_SASL_PASSWORD)) {
    const missing = raw.KAFKA_SASL_USERNAME ? 'KAFKA_SASL_PASSWORD' : 'KAFKA_SASL_USERNAME';
    throw new ConfigError(`${missing}: required when KAFKA_SASL_MECHANISM is set; set KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD`, missing);
  }
  return {
    brokers: raw.KAFKA_BROKERS.split(',').map((b) => b.trim()).filter(Boolean),
    groupId: raw.KAFKA_GROUP_ID,
    clientId: raw.KAFKA_CLIENT_ID,
    fromBeginning: raw.KAFKA_AUTO_OFFSET_RESET === 'earliest',
    ssl: raw.KAFKA_SSL,
    ...(mechanism ? { sasl: { mechanism, username: raw.KAFKA_SASL_USERNAME!, password: raw.KAFKA_SASL_PASSWORD! } } : {}),
    maxRetries: raw.KAFKA_MAX_RETRIES,
  };
}
