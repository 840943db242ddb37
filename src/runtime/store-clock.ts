import type { Store } from '../storage/store.ts';

/**
 * The store's clock (`Store.now()`), the one clock instances sharing a store agree on: leases they
 * judge each other's by (partition holds, outbox claims) are stamped and read by it. A store without
 * one (an embedder's own, written before the port had it) leaves this instance's clock.
 */
export const storeClock = (store: Store): (() => number | Promise<number>) => (typeof store.now === 'function' ? () => store.now() : Date.now);
