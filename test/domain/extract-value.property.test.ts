import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkReadings, toReading } from '../../src/domain/extract-value.ts';

const NOW = '2026-01-01T00:00:00.000Z';

/** Names at and past the schema's edges: empty, padded, 200 and 201 characters, other types. */
const name = fc.oneof(
  fc.constantFrom('d1', 'temperature', ' d1', 'd1 ', '\td1\n', ' ', '', '\u00a0x', 'x\u2028', 'a'.repeat(200), 'a'.repeat(201), ' '.repeat(3) + 'a'.repeat(200)),
  fc.string({ maxLength: 8 }),
  fc.integer(),
  fc.double(),
  fc.constantFrom(null, true, undefined, {}, []),
);
const value = fc.oneof(fc.double(), fc.integer(), fc.constantFrom('85.2', ' 3 ', '', 'x', null, undefined, true, {}, []));
const ts = fc.oneof(
  fc.constantFrom(undefined, '2026-01-31T12:00:00Z', '2026-01-31T12:00:00.123456+02:00', '', 'x'.repeat(65), 'not a time', '+275760-09-13T00:00:00Z', null, true),
  fc.double(),
  fc.integer(),
  fc.constantFrom(1_767_225_600, 1_767_225_600_000, 1_767_225_600.0005, -62_135_596_800_001, 1e11 - 0.5, 1e20),
);
const record = fc.oneof(fc.constantFrom(undefined, null, [], 'x'), fc.dictionary(fc.constantFrom('temperature', 'value', 'env.t', 'x'), value, { maxKeys: 3 }));

/** A raw reading: usually an object with the fields (each maybe absent), sometimes extra keys or not an object at all. */
const raw = fc.oneof(
  { weight: 8, arbitrary: fc.record({ device_id: name, metric: name, value, ts, json_value: record, metadata: record, extra: fc.anything() }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: fc.anything() },
);

describe('checking readings', () => {
  it('gives what the schema gives for any input: the same reading, its time in ms, or the same issue', () => {
    fc.assert(
      fc.property(fc.array(raw, { minLength: 1, maxLength: 4 }), (raws) => {
        const checked = checkReadings(raws, NOW);
        const readings = [];
        const times = [];
        const rejected = [];
        for (let index = 0; index < raws.length; index++) {
          const one = toReading(raws[index], NOW, raws.length > 1 ? String(index) : '');
          if ('issue' in one) rejected.push({ index, issue: one.issue });
          else {
            readings.push(one.reading);
            times.push(one.ms);
          }
        }
        expect(checked).toEqual({ readings, times, rejected });
        for (let i = 0; i < readings.length; i++) expect(times[i]).toBe(Date.parse(readings[i]!.ts));
      }),
      { numRuns: 2_000 },
    );
  });

  it('takes the common reading as it is, its time being the batch time when it has none', () => {
    const checked = checkReadings([{ device_id: 'd1', value: 3 }, { device_id: 7, metric: 'm', value: -1.5, ts: 1_767_225_600 }, { device_id: ' d2 ', value: 1 }], NOW);
    expect(checked).toEqual({
      readings: [
        { device_id: 'd1', metric: 'value', value: 3, ts: NOW },
        { device_id: '7', metric: 'm', value: -1.5, ts: NOW },
        { device_id: 'd2', metric: 'value', value: 1, ts: NOW },
      ],
      times: [Date.parse(NOW), Date.parse(NOW), Date.parse(NOW)],
      rejected: [],
    });
  });

  it('words an issue as the schema does, naming the item and the field', () => {
    const checked = checkReadings([{ device_id: 'd1', value: 3 }, { device_id: '', value: 1 }, { device_id: 'd', value: 'hot' }], NOW);
    expect(checked.readings).toHaveLength(1);
    expect(checked.rejected.map(({ index, issue }) => [index, issue.path])).toEqual([
      [1, '1.device_id'],
      [2, '2.value'],
    ]);
  });
});
