import { z } from 'zod';
import { MAX_PERIOD_SECONDS, MIN_PERIOD_SECONDS, retentionDaysSchema } from '../domain/time-schema.ts';

/** Where `--inspect` connects when given no URL: the default of @statelyai/inspect and of its bridge server. */
export const DEFAULT_INSPECT_URL = 'ws://localhost:8080';

const bool = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])]).transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');
const positiveInt = z.coerce.number().int().positive();
/** A clock's period in seconds: from 10 ms to a week (Node cannot arm a longer timer). */
const periodSeconds = z.coerce.number().min(MIN_PERIOD_SECONDS).max(MAX_PERIOD_SECONDS);
const optionalText = z.string().trim().min(1).optional();
const rate = z.string().regex(/^[1-9]\d{0,8}\/(second|minute|hour|day)$/, 'must look like 100/minute (1 to 999999999 per second, minute, hour or day)');
/** `--inspect` alone (or `true`) means the inspector's default URL; `false` or empty means off. */
const inspectUrl = z
  .union([z.boolean(), z.string()])
  .transform((v) => (v === true || v === 'true' || v === '1' ? DEFAULT_INSPECT_URL : v === false || v === 'false' || v === '0' || v === '' ? undefined : v))
  .pipe(z.string().regex(/^wss?:\/\/\S+$/, 'must be a ws:// or wss:// URL').optional());

/**
 * Every setting, by the environment name users already know. The same keys are accepted in an
 * optional JSON config file and as CLI flags (`--publish-interval-seconds 1`); flags beat the
 * environment, which beats the file, which beats the defaults below.
 */
export const rawSchema = z.object({
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
  KAFKA_SESSION_TIMEOUT_MS: positiveInt.min(1_000).max(3_600_000).default(6_000),
  KAFKA_HEARTBEAT_INTERVAL_MS: positiveInt.max(600_000).default(1_500),
  KAFKA_REBALANCE_TIMEOUT_MS: positiveInt.min(1_000).max(3_600_000).default(10_000),
  // 0 turns the heartbeat publisher off.
  PUBLISH_INTERVAL_SECONDS: z.union([z.literal(0), z.literal('0'), periodSeconds]).pipe(z.coerce.number()).default(5),
  BUFFER_SIZE: positiveInt.max(1_000_000).default(100),
  BATCH_SIZE: positiveInt.max(10_000).default(25),
  BATCH_WAIT_MS: positiveInt.max(600_000).default(5_000),
  ALERT_INTERVAL_SECONDS: periodSeconds.default(30),
  ALERT_MODE: z.enum(['both', 'reactive', 'interval']).default('both'),
  PERIOD_IN_SECONDS: positiveInt.max(MAX_PERIOD_SECONDS).optional(),
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
  NOTIFY_REPEAT_INTERVAL_SECONDS: z.coerce.number().min(0).max(31_536_000).default(300),
  NOTIFY_POLL_INTERVAL_MS: positiveInt.max(600_000).default(1_000),
  ANALYTICS_INTERVAL_SECONDS: periodSeconds.default(3_600),
  ENABLE_RATE_LIMITING: bool.default(true),
  RATE_LIMIT_DEFAULT: rate.default('100/minute'),
  RATE_LIMIT_READS: rate.optional(),
  RATE_LIMIT_WRITES: rate.optional(),
  RATE_LIMIT_ADMIN: rate.default('10/minute'),
  MAX_BODY_BYTES: positiveInt.max(1 << 30).default(1 << 20),
  // A full batch of POST /rules (RULES_BATCH_LIMIT rules) fits even with every text field at its longest.
  RULES_MAX_BODY_BYTES: positiveInt.max(1 << 30).default(32 << 20),
  API_TOKEN: optionalText,
  API_TOKEN_READS: bool.default(false),
  CLEANUP_RETENTION_DAYS: z.coerce.number().pipe(retentionDaysSchema).default(30),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
  INSPECT: inspectUrl.optional(),
  INSPECT_CHILDREN: bool.default(false),
  INSPECT_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  INSPECT_HOST: z.string().min(1).default('127.0.0.1'),
  MQTT_URL: z.string().regex(/^(mqtts?|wss?|tcp|ssl):\/\/\S+$/, 'must be an mqtt://, mqtts://, ws:// or wss:// URL').optional(),
  MQTT_TOPICS: z.string().trim().min(1).default('sensors/+/+'),
  MQTT_TOPIC_TEMPLATE: z.string().trim().min(1).default('sensors/{device_id}/{metric}'),
  MQTT_QOS: z.coerce.number().int().min(0).max(1).default(1),
  MQTT_CLIENT_ID: optionalText,
  MQTT_CLEAN_SESSION: bool.default(true),
  MQTT_USERNAME: optionalText,
  MQTT_PASSWORD: optionalText,
});

/** The raw keys, as in the environment. */
export type ConfigKey = keyof z.input<typeof rawSchema>;
export const CONFIG_KEYS = Object.keys(rawSchema.shape) as ConfigKey[];

/** What to do when a key is wrong: appended to its error message. */
export const FIXES: Partial<Record<ConfigKey, string>> = {
  PORT: 'use a TCP port number from 0 to 65535',
  DATABASE_URL: 'use sqlite:./data/vigil.db or postgres://user@host:5432/db',
  PUBLISH_INTERVAL_SECONDS: 'use the heartbeat period in seconds (0.01 to 604800), e.g. 5 (0 turns the heartbeat off)',
  BUFFER_SIZE: 'use a whole number of messages, e.g. 100',
  BATCH_SIZE: 'use a whole number of messages per batch, e.g. 25',
  BATCH_WAIT_MS: 'use the longest wait for a batch to fill, in milliseconds, e.g. 5000',
  ALERT_INTERVAL_SECONDS: 'use the evaluation period in seconds (0.01 to 604800), e.g. 30',
  ALERT_MODE: 'use both (readings and interval), reactive (readings only) or interval (latest stored reading every ALERT_INTERVAL_SECONDS)',
  PERIOD_IN_SECONDS: 'use a whole number of seconds (1 to 604800), e.g. 10',
  HTTP_POST_ENDPOINT: 'use an absolute URL such as http://127.0.0.1:8080/events',
  HEALTH_CHECK_ENDPOINT: 'use an absolute URL such as http://127.0.0.1:8080/health',
  RATE_LIMIT_DEFAULT: 'e.g. 100/minute',
  RATE_LIMIT_READS: 'e.g. 300/minute',
  RATE_LIMIT_WRITES: 'e.g. 100/minute',
  RATE_LIMIT_ADMIN: 'e.g. 10/minute',
  MAX_BODY_BYTES: 'use a size in bytes, e.g. 1048576',
  RULES_MAX_BODY_BYTES: 'use a size in bytes (at most 1073741824), e.g. 33554432',
  INSPECT: 'use --inspect alone (ws://localhost:8080) or --inspect=ws://host:port',
  INSPECT_PORT: 'use a TCP port number from 0 to 65535 for the inspector bridge page, e.g. 8080',
  LOG_LEVEL: 'use one of fatal, error, warn, info, debug, trace, silent',
  LOG_FORMAT: 'use auto (pretty on a terminal, JSON otherwise), json or pretty',
  CLEANUP_RETENTION_DAYS: 'use a number of days from more than 0 to 36500, e.g. 30',
  KAFKA_AUTO_OFFSET_RESET: 'use earliest or latest',
  KAFKA_SASL_MECHANISM: 'use plain, scram-sha-256 or scram-sha-512',
  KAFKA_MAX_RETRIES: 'use a whole number of connection retries, e.g. 10',
  KAFKA_SESSION_TIMEOUT_MS: 'use the milliseconds after which a silent consumer leaves the group, e.g. 6000 (within the broker\'s group.min/max.session.timeout.ms)',
  KAFKA_HEARTBEAT_INTERVAL_MS: 'use a heartbeat period in milliseconds below KAFKA_SESSION_TIMEOUT_MS, e.g. 1500 (a quarter of it)',
  KAFKA_REBALANCE_TIMEOUT_MS: 'use the milliseconds members get to rejoin during a rebalance, e.g. 10000',
  WEBHOOK_URL: 'use an absolute URL such as https://hooks.example.com/vigil',
  NOTIFY_MAX_ATTEMPTS: 'use a whole number of delivery attempts, e.g. 5',
  NOTIFY_REPEAT_INTERVAL_SECONDS: 'use the seconds within which a repeated notification is suppressed, e.g. 300 (0 = never, at most 31536000)',
  NOTIFY_POLL_INTERVAL_MS: 'use the outbox polling period in milliseconds, e.g. 1000',
  NOTIFY_BACKOFF_INITIAL_MS: 'use the wait before the first retry of a notification, in milliseconds, e.g. 1000',
  ANALYTICS_INTERVAL_SECONDS: 'use the analytics snapshot period in seconds (0.01 to 604800), e.g. 3600',
  MQTT_URL: 'use the broker URL, e.g. mqtt://127.0.0.1:1883',
  MQTT_TOPICS: 'use comma-separated topic filters, e.g. sensors/+/+',
  MQTT_TOPIC_TEMPLATE: 'use topic levels naming {device_id} and optionally {metric}, e.g. sensors/{device_id}/{metric}',
  MQTT_QOS: 'use 0 (at most once) or 1 (at least once: acknowledged after the readings are stored)',
};

/** Where Kafka is and how to reach it (set when KAFKA_BROKERS is). */
