import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toReading } from '../../src/domain/extract-value.ts';
import { isoTimeSchema, isStorableTime, MAX_RETENTION_DAYS, retentionDaysSchema, TIME_RANGE } from '../../src/domain/time-schema.ts';
import { ValidationError } from '../../src/errors.ts';
import { cleanup } from '../../src/runtime/retention.ts';
import { createSqliteStore } from '../../src/storage/sqlite/index.ts';

const NOW = '2026-01-01T00:00:00.000Z';

describe('storable times', () => {
  it('are the years 0001–9999: each one has the four-digit ISO form that orders as text', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true }), (ms) => {
        if (!isStorableTime(ms)) return;
        expect(new Date(ms).toISOString()).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      }),
    );
    expect(isStorableTime(TIME_RANGE.maxMs)).toBe(true);
    expect(isStorableTime(TIME_RANGE.maxMs + 1)).toBe(false);
    expect(isStorableTime(TIME_RANGE.minMs - 1)).toBe(false);
    expect(isoTimeSchema.safeParse('+275760-09-13T00:00:00Z').success).toBe(false);
    expect(isoTimeSchema.safeParse('2026-01-31T12:00:00+02:00').success).toBe(true);
  });

  it('a reading whose ts is past them is rejected naming ts, never a thrown RangeError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom('+275760-09-13T00:00:00Z', '10000-01-01T00:00:00Z', '2026-13-01')), (ts) => {
        const checked = toReading({ device_id: 'd', value: 1, ts }, NOW);
        if ('issue' in checked) expect(checked.issue.path).toBe('ts');
        else expect(checked.reading.ts).toMatch(/^\d{4}-/);
      }),
    );
    expect(toReading({ device_id: 'd', value: 1, ts: 1e20 }, NOW)).toMatchObject({ issue: { path: 'ts', message: expect.stringContaining('0001 and 9999') } });
    expect(toReading({ device_id: 'd', value: 1, ts: 1_767_225_600 }, NOW)).toMatchObject({ reading: { ts: NOW } });
  });
});

describe('retention days', () => {
  it('are more than 0 and at most a century', () => {
    expect(retentionDaysSchema.safeParse(MAX_RETENTION_DAYS).success).toBe(true);
    for (const days of [0, -1, MAX_RETENTION_DAYS + 1, 1e9, Infinity, Number.NaN]) expect(retentionDaysSchema.safeParse(days).success, String(days)).toBe(false);
  });

  it('cleanup() refuses days out of range with a ValidationError naming days, and deletes nothing', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    await store.migrate();
    try {
      await store.readings.upsertLatest([{ device_id: 'd', metric: 'm', value: 1, ts: '2000-01-01T00:00:00.000Z' }]);
      const error = await cleanup(store, 1e9).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ field: 'days', status: 422 });
      expect(await store.readings.latestAll()).toHaveLength(1);
      expect((await cleanup(store, MAX_RETENTION_DAYS)).deleted.readings).toBe(0);
    } finally {
      await store.close();
    }
  });
});
