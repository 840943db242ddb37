import { toReading } from '../../domain/extract-value.ts';
import type { Reading } from '../../domain/reading.ts';
import type { IngestResult } from './engine.ts';

/**
 * Readings this instance received but may not own the rules of: the valid ones are published (to
 * the readings topic keyed by device, so they land in the partition whose owner runs the device's
 * rules, and are evaluated there like any reading from the topic), each with its `ts` fixed to
 * now when it has none. Resolves once the broker has every one of them; rejections are counted
 * here, staleness by the owner. `stored` is already settled: the owner stores them.
 */
export async function forwardReadings(raws: unknown[], options: { publish(reading: Reading): Promise<unknown>; now: number }): Promise<IngestResult> {
  const nowIso = new Date(options.now).toISOString();
  const result: IngestResult = { accepted: 0, stale: 0, rejected: [], stored: Promise.resolve() };
  const valid: Reading[] = [];
  for (let index = 0; index < raws.length; index++) {
    const checked = toReading(raws[index], nowIso, raws.length > 1 ? String(index) : '');
    if ('issue' in checked) result.rejected.push({ index, issue: checked.issue });
    else valid.push(checked.reading);
  }
  await Promise.all(valid.map((reading) => options.publish(reading)));
  result.accepted = valid.length;
  return result;
}
