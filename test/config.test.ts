import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseRate, readConfigFile } from '../src/config/index.ts';
import { ConfigError } from '../src/errors.ts';

const configError = (fn: () => unknown): ConfigError => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
};

describe('loadConfig', () => {
  it('runs on the embedded default with no settings at all', () => {
    const config = loadConfig({ env: {} });
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      database: { kind: 'sqlite', path: './data/vigil.db' },
      kafka: null,
      publishIntervalSeconds: 5,
      bufferSize: 100,
      alertIntervalSeconds: 30,
      propagator: null,
      rateLimit: { enabled: true, limit: 100, windowMs: 60_000 },
      cleanupRetentionDays: 30,
      logLevel: 'info',
    });
  });

  it('names the variable, the value and the fix for a bad setting', () => {
    const error = configError(() => loadConfig({ env: { PUBLISH_INTERVAL_SECONDS: '-1' } }));
    expect(error.field).toBe('PUBLISH_INTERVAL_SECONDS');
    expect(error.message).toContain('PUBLISH_INTERVAL_SECONDS');
    expect(error.message).toContain('"-1"');
    expect(error.message).toContain('e.g. 5');
  });

  it.each([
    ['PORT', 'eighty'],
    ['BUFFER_SIZE', '1.5'],
    ['DATABASE_URL', 'mysql://x'],
    ['RATE_LIMIT_DEFAULT', 'lots'],
    ['LOG_LEVEL', 'loud'],
    ['HTTP_POST_ENDPOINT', 'not a url'],
  ])('rejects %s=%s naming it', (key, value) => {
    expect(configError(() => loadConfig({ env: { [key]: value } })).field).toBe(key);
  });

  it('lets flags beat the environment, which beats the file', () => {
    const config = loadConfig({
      file: { PORT: 1, BUFFER_SIZE: 7, PUBLISH_INTERVAL_SECONDS: 9 },
      env: { PORT: '2', BUFFER_SIZE: '8' },
      overrides: { PORT: '3' },
    });
    expect({ port: config.port, buffer: config.bufferSize, interval: config.publishIntervalSeconds }).toEqual({ port: 3, buffer: 8, interval: 9 });
  });

  it('treats empty variables as unset and ignores unknown ones', () => {
    expect(loadConfig({ env: { PORT: '', HOME: '/somewhere' } }).port).toBe(3000);
  });

  it('reads Kafka, PostgreSQL and the propagator from their variables', () => {
    const config = loadConfig({
      env: {
        KAFKA_BROKERS: 'a:9092, b:9092',
        DATABASE_URL: 'postgres://u@127.0.0.1:5432/test',
        PERIOD_IN_SECONDS: '2',
        HTTP_POST_ENDPOINT: 'http://127.0.0.1:9/x',
        PAYLOAD_FILE_PATH: 'p.json',
      },
    });
    expect(config.kafka?.brokers).toEqual(['a:9092', 'b:9092']);
    expect(config.database).toEqual({ kind: 'postgres', url: 'postgres://u@127.0.0.1:5432/test' });
    expect(config.propagator).toEqual({ periodSeconds: 2, endpoint: 'http://127.0.0.1:9/x', payloadFile: 'p.json' });
  });

  it('asks for the rest of the propagator settings when only some are given', () => {
    expect(configError(() => loadConfig({ env: { PERIOD_IN_SECONDS: '2' } })).field).toBe('HTTP_POST_ENDPOINT');
  });

  it('parses rate specs', () => {
    expect(parseRate('5/second')).toEqual({ limit: 5, windowMs: 1_000 });
    expect(parseRate('100/hour')).toEqual({ limit: 100, windowMs: 3_600_000 });
  });
});

describe('readConfigFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-config-'));

  it('reads a JSON object of settings', () => {
    const path = join(dir, 'ok.json');
    writeFileSync(path, JSON.stringify({ BUFFER_SIZE: 5 }));
    expect(loadConfig({ file: readConfigFile(path) }).bufferSize).toBe(5);
  });

  it('rejects a file that is not a JSON object, naming the file', () => {
    const path = join(dir, 'bad.json');
    writeFileSync(path, '[1, 2]');
    expect(configError(() => readConfigFile(path)).message).toContain(path);
    expect(configError(() => readConfigFile(join(dir, 'missing.json'))).field).toBe('config');
  });
});

describe('Kafka settings', () => {
  it('reads offset reset, TLS, SASL and retries, and names the missing SASL field', () => {
    const kafka = loadConfig({
      env: { KAFKA_BROKERS: 'k:9092', KAFKA_AUTO_OFFSET_RESET: 'latest', KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p', KAFKA_MAX_RETRIES: '3' },
    }).kafka;
    expect(kafka).toMatchObject({ fromBeginning: false, ssl: true, sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' }, maxRetries: 3 });
    expect(loadConfig({ env: { KAFKA_BROKERS: 'k:9092' } }).kafka).toMatchObject({ fromBeginning: true, ssl: false, maxRetries: 10 });
    expect(() => loadConfig({ env: { KAFKA_BROKERS: 'k:9092', KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u' } })).toThrow(/KAFKA_SASL_PASSWORD: required when KAFKA_SASL_MECHANISM is set/);
    expect(() => loadConfig({ env: { KAFKA_AUTO_OFFSET_RESET: 'newest' } })).toThrow(/KAFKA_AUTO_OFFSET_RESET.*use earliest or latest/);
  });

  it('reads the consumer group timings, defaulting to a 6 s session, and rejects a heartbeat not below the session', () => {
    expect(loadConfig({ env: { KAFKA_BROKERS: 'k:9092' } }).kafka).toMatchObject({ sessionTimeoutMs: 6_000, heartbeatIntervalMs: 1_500, rebalanceTimeoutMs: 10_000 });
    const kafka = loadConfig({ env: { KAFKA_BROKERS: 'k:9092', KAFKA_SESSION_TIMEOUT_MS: '10000', KAFKA_HEARTBEAT_INTERVAL_MS: '2000', KAFKA_REBALANCE_TIMEOUT_MS: '30000' } }).kafka;
    expect(kafka).toMatchObject({ sessionTimeoutMs: 10_000, heartbeatIntervalMs: 2_000, rebalanceTimeoutMs: 30_000 });
    expect(() => loadConfig({ env: { KAFKA_BROKERS: 'k:9092', KAFKA_HEARTBEAT_INTERVAL_MS: '6000' } })).toThrow(/KAFKA_HEARTBEAT_INTERVAL_MS: must be below KAFKA_SESSION_TIMEOUT_MS/);
    expect(() => loadConfig({ env: { KAFKA_SESSION_TIMEOUT_MS: 'soon' } })).toThrow(/KAFKA_SESSION_TIMEOUT_MS/);
  });
});
