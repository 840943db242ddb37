import { Gauge, type Registry } from 'prom-client';
import type { Store } from '../storage/store.ts';
import type { Logger } from './logger.ts';

/**
 * The store's clock (`Store.now()`), the one clock instances sharing a store agree on: leases they
 * judge each other's by (partition holds, outbox claims) are stamped and read by it. A store without
 * one (an embedder's own, written before the port had it) leaves this instance's clock.
 */
export const storeClock = (store: Store): (() => number | Promise<number>) => (typeof store.now === 'function' ? () => store.now() : Date.now);

/** Whether `store` has a clock of its own apart from this host's: a SQLite file's is this host's. */
const sharesClock = (store: Store): boolean => store.kind !== 'sqlite' && typeof store.now === 'function';

/** Past this, an instance's clock is reported off the database's (ms). */
export const CLOCK_OFFSET_WARN_MS = 1_000;

/**
 * How far this instance's clock runs ahead of the store's (ms; negative: behind), read against the
 * middle of one round trip; undefined for a store without a clock, or one on this host (SQLite).
 */
export async function clockOffset(store: Store): Promise<number | undefined> {
  if (!sharesClock(store)) return undefined;
  const sent = Date.now();
  const at = await store.now();
  return Math.round((sent + Date.now()) / 2 - at);
}

/**
 * Checks this instance's clock against a shared store's at start: logged, and a warning past a
 * second. Leases run on the store's clock whatever the offset, but the times an instance stamps
 * (alert events, when a rule went pending: a rule handed to another instance is judged by that one's
 * clock) carry it. A store that cannot be read now is logged, not fatal.
 */
export async function checkClock(store: Store, logger: Logger): Promise<void> {
  let offset: number | undefined;
  try {
    offset = await clockOffset(store);
  } catch (error) {
    logger.warn({ err: error }, "clock not checked against the database's");
    return;
  }
  if (offset === undefined) return;
  if (Math.abs(offset) <= CLOCK_OFFSET_WARN_MS) {
    logger.info({ offset_ms: offset }, "clock checked against the database's");
    return;
  }
  logger.warn(
    { offset_ms: offset },
    "this instance's clock is off the database's: leases run on the database's clock, but the times this instance stamps carry the difference (synchronize the clocks: NTP)",
  );
}

/** `vigil_store_clock_offset_seconds`, read at scrape time: this instance's clock against a shared store's. */
export function registerClockOffset(store: Store, metrics: Registry): void {
  if (!sharesClock(store)) return;
  new Gauge({
    name: 'vigil_store_clock_offset_seconds',
    help: "How far this instance's clock runs ahead of the database's (negative: behind), at the scrape",
    registers: [metrics],
    async collect() {
      const offset = await clockOffset(store).catch(() => undefined);
      if (offset === undefined) this.reset();
      else this.set(offset / 1_000);
    },
  });
}
