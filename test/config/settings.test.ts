import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS, loadConfig, readConfigFile, type Config } from '../../src/config/index.ts';
import { ConfigError } from '../../src/errors.ts';

/** Values past every edge a number setting has, as they arrive from the environment or a flag. */
const hostile = fc.constantFrom('1e9', '1e15', '1e308', '1e999', '-1e999', '1e-300', '-1', '0', '-0', 'NaN', 'Infinity', '0x7fffffff', '9007199254740993', '2147483648', ' ', 'abc');

/** Every number in the config, with its path. */
function numbersOf(value: unknown, path = ''): [string, number][] {
  if (typeof value === 'number') return [[path, value]];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) => numbersOf(inner, path ? `${path}.${key}` : key));
}

const loaded = (env: Record<string, string>): Config | ConfigError => {
  try {
    return loadConfig({ env });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
};

describe('setting bounds', () => {
  it('any value of any setting is a config or a ConfigError naming the setting; every accepted number is finite and timer-safe', () => {
    fc.assert(
      fc.property(fc.constantFrom(...CONFIG_KEYS), hostile, (key, value) => {
        const result = loaded({ [key]: value });
        if (result instanceof ConfigError) {
          // The key itself, or a companion it needs (PERIOD_IN_SECONDS for PAYLOAD_FILE_PATH, say).
          expect(CONFIG_KEYS).toContain(result.field);
          if (!/required when/.test(result.message)) expect(result.field).toBe(key);
          return;
        }
        for (const [path, n] of numbersOf(result)) {
          expect(Number.isFinite(n), path).toBe(true);
          // Periods become timers: Node fires a timer longer than 2^31−1 ms after 1 ms.
          if (/seconds$/i.test(path) && !/repeat/i.test(path)) expect(n * 1_000, path).toBeLessThan(2 ** 31);
        }
        expect(Number.isFinite(new Date(Date.now() - result.cleanupRetentionDays * 86_400_000).getTime())).toBe(true);
      }),
      { numRuns: 600 },
    );
  });

  it.each([
    ['CLEANUP_RETENTION_DAYS', '1e9', /CLEANUP_RETENTION_DAYS: must be at most 36500 days/],
    ['CLEANUP_RETENTION_DAYS', '0', /CLEANUP_RETENTION_DAYS: must be more than 0 days/],
    ['PUBLISH_INTERVAL_SECONDS', '1e9', /PUBLISH_INTERVAL_SECONDS: .*604800/],
    ['PUBLISH_INTERVAL_SECONDS', '1e-9', /PUBLISH_INTERVAL_SECONDS: .*0\.01/],
    ['ALERT_INTERVAL_SECONDS', '3000000', /ALERT_INTERVAL_SECONDS: .*604800/],
    ['ANALYTICS_INTERVAL_SECONDS', '1e308', /ANALYTICS_INTERVAL_SECONDS/],
    ['NOTIFY_REPEAT_INTERVAL_SECONDS', '1e300', /NOTIFY_REPEAT_INTERVAL_SECONDS/],
    ['RATE_LIMIT_DEFAULT', '0/minute', /RATE_LIMIT_DEFAULT/],
    ['RATE_LIMIT_DEFAULT', '99999999999999999999/second', /RATE_LIMIT_DEFAULT/],
  ])('%s=%s is refused, naming the bound', (key, value, message) => {
    const result = loaded({ [key]: value });
    expect(result).toBeInstanceOf(ConfigError);
    expect((result as ConfigError).message).toMatch(message);
  });

  it('keeps the values at the bounds', () => {
    const config = loadConfig({ env: { CLEANUP_RETENTION_DAYS: '36500', PUBLISH_INTERVAL_SECONDS: '604800', ALERT_INTERVAL_SECONDS: '0.01' } });
    expect(config).toMatchObject({ cleanupRetentionDays: 36_500, publishIntervalSeconds: 604_800, alertIntervalSeconds: 0.01 });
  });

  it('bounds a config file alike, numbers JSON cannot hold included', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'vigil-settings-')), 'config.json');
    writeFileSync(path, '{"CLEANUP_RETENTION_DAYS": 1e999}');
    expect(loaded(readConfigFile(path) as Record<string, string>)).toMatchObject({ field: 'CLEANUP_RETENTION_DAYS' });
    writeFileSync(path, '{"PUBLISH_INTERVAL_SECONDS": 1e9}');
    expect(() => loadConfig({ file: readConfigFile(path) })).toThrow(/PUBLISH_INTERVAL_SECONDS/);
  });
});
