import { checkReadings } from '../../domain/extract-value.ts';
import type { Reading } from '../../domain/reading.ts';

/**
 * Readings this instance received but may not own the rules of: the valid ones are published (to
 * the readings topic keyed by device, so they land in the partition whose owner runs the device's
 * rules, and are evaluated there like any reading from the topic), each with its `ts` fixed to
 * now when it has none. Resolves once the broker has every one of them; rejections are counted by
 * this instance, staleness by the owner. `stored` is already settled: the owner stores them. The
 * result is the engine's IngestResult.
 */
export async function forwardReadings(raws: unknown[], options: { publish(reading: Reading): Promise<unknown>; now: number }) {
  const { readings, rejected } = checkReadings(raws, new Date(options.now).toISOString());
  await Promise.all(readings.map((reading) => options.publish(reading)));
  return { accepted: readings.length, stale: 0, rejected, stored: Promise.resolve() };
}
