import type { Reading } from '../domain/reading.ts';
import { isoTime } from './timestamps.ts';

/**
 * The newest reading per (device, metric) of `readings`, each with its `ts` in stored form, in the
 * order each series first appears; of two with the same `ts`, the later one. Only the newest can
 * stand in `readings_latest`, so a batch writes one row per series. Throws StoreError on a
 * malformed `ts`. A reading already in stored form is kept as it is (no copy).
 */
export function newestPerSeries(readings: Reading[]): Reading[] {
  const newest = new Map<string, number>();
  const kept: Reading[] = [];
  for (const r of readings) {
    const ts = isoTime(r.ts, 'ts');
    const reading = ts === r.ts ? r : { device_id: r.device_id, metric: r.metric, value: r.value, ts };
    const key = `${reading.device_id}\u0000${reading.metric}`;
    const at = newest.get(key);
    if (at === undefined) {
      newest.set(key, kept.length);
      kept.push(reading);
    } else if (reading.ts >= kept[at]!.ts) kept[at] = reading;
  }
  return kept;
}
