import { randomUUID } from 'node:crypto';
import type { Store } from '../../storage/store.ts';
import type { Logger } from '../logger.ts';
import { storeClock } from '../store-clock.ts';
import { retryPatiently, retryStoreCallBy } from '../store-retry.ts';

/** Where the holds are kept: one snapshot row per partition, beside the actors' states. */
export const PARTITION_HOLD_PREFIX = 'partition-hold:';

/** Who runs a partition's rules: an instance, whether it let go of them, and until when its hold stands. */
export interface PartitionHold {
  holder: string;
  released: boolean;
  /** Epoch ms on the store's clock; the holder renews it while it runs the partition's rules. */
  until: number;
}

/** Options of `createPartitionFence`. */
export interface PartitionFenceOptions {
  store: Store;
  logger: Logger;
  /** How long a hold stands unrenewed: a holder that died stops blocking its partitions after this. */
  leaseMs: number;
  /**
   * The clock holds are written and judged by: the store's (`store.now()`) unless set, so that
   * instances whose own clocks disagree still agree on when a hold lapses (this instance's own clock
   * for a store without one).
   */
  now?: () => number | Promise<number>;
  /** How often a waiting adopter looks again (ms). */
  pollMs?: number;
  /** This instance's name in the holds (default: a fresh UUID). */
  holder?: string;
}

const holdId = (partition: number) => `${PARTITION_HOLD_PREFIX}${partition}`;

/** A hold's lease when the broker names no session timeout: Kafka's consumer-group default here. */
export const FENCE_LEASE_MS = 6_000;

/**
 * The order of a handover across instances. On a rebalance every instance lets go of the rules of its
 * revoked partitions (their states saved) while the group is joined again, and the partitions' new
 * owner loads those states as soon as it is told: without a fence, a previous owner still saving (its
 * store held by another process, say) saved after the load. So each instance holds its partitions in
 * the store, renewing the hold while it runs them, and marks them released once their rules' states
 * are saved; an adopter waits, before loading, until every partition it takes over is released by
 * its holder or the hold has lapsed (a holder that died). Leases run on the store's clock, the one
 * clock all instances share: an instance's own clock running ahead would otherwise take a live hold
 * for lapsed.
 */
export function createPartitionFence({ store, logger, leaseMs, now = storeClock(store), pollMs = 50, holder = randomUUID() }: PartitionFenceOptions) {
  let held: number[] = [];
  const { write, renewOnce } = holdWriter({ store, logger, leaseMs, now, holder });
  const renewal = renewals(() => held, renewOnce, { logger, leaseMs });

  /** Stops renewing `partitions` (revoked here): their holds lapse within a lease unless `release` comes first. */
  const letGo = (partitions: readonly number[]): void => {
    held = held.filter((partition) => !partitions.includes(partition));
  };
  /**
   * The partitions of `wanted` that another instance holds: not released, and its hold not lapsed.
   * Each hold is read by its key: a read by prefix would walk every rule's saved state beside them.
   */
  const heldElsewhere = async (wanted: readonly number[]): Promise<number[]> => {
    const holds = (await Promise.all(wanted.map((partition) => store.snapshots.load(holdId(partition))))) as (PartitionHold | undefined)[];
    const at = await now();
    return wanted.filter((_, i) => {
      const hold = holds[i];
      return hold !== undefined && hold.holder !== holder && !hold.released && hold.until > at;
    });
  };
  const waitForRelease = (partitions: readonly number[]) => waitUntilReleased(partitions, { heldElsewhere, logger, leaseMs, pollMs });
  /** Marks `partitions` released: their rules' states are saved, and their next owner may load them. */
  const release = async (partitions: readonly number[], deadline?: number): Promise<void> => {
    letGo(partitions);
    if (partitions.length > 0) await write(partitions, true, 'partition release not written', deadline);
  };
  /** Stops renewing (the holds lapse, or were released). */
  const close = (): void => renewal.stop();

  return {
    holder,
    heldElsewhere,
    waitForRelease,
    letGo,
    release,
    close,
    /**
     * Holds `partitions` (the ones this instance runs now), renewed every third of the lease until
     * released. Written before their rules load, so that a rebalance coming meanwhile is fenced too;
     * one attempt (a held store must not hold up the adoption), tried again soon when it fails.
     */
    async hold(partitions: readonly number[]): Promise<void> {
      held = [...partitions];
      renewal.start();
      await renewal.now();
    },
    /**
     * A rebalance's step between letting go and adopting: releases the partitions revoked here (their
     * rules' states saved), then waits for the previous owners of those `arriving`. A release not
     * written is logged; the next owner then waits for the hold to lapse.
     */
    async handOver(revoked: readonly number[], arriving: readonly number[]): Promise<void> {
      await release(revoked).catch((error: unknown) => logger.error({ err: error, partitions: revoked }, 'partitions not released: their next owner waits for the hold to lapse'));
      await waitForRelease(arriving);
    },
    /** At a stop, once the rules' states are saved: releases `partitions` by `deadline`, and stops renewing. */
    async releaseAll(partitions: readonly number[], deadline: number): Promise<void> {
      try {
        await release(partitions, deadline);
      } finally {
        close();
      }
    },
  };
}

/**
 * The renewals of the holds `held()` names: every third of the lease, and, after an attempt that
 * failed (a store held by another process), again a twelfth of a lease later rather than a third: a
 * partition whose hold is not written is not fenced against a second rebalance. Each attempt is one
 * write of what is held at that moment, never retried itself, so a partition let go of is never
 * written held again.
 */
function renewals(held: () => readonly number[], renewOnce: (partitions: readonly number[]) => Promise<void>, { logger, leaseMs }: Pick<PartitionFenceOptions, 'logger' | 'leaseMs'>) {
  let every: ReturnType<typeof setInterval> | undefined;
  let again: ReturnType<typeof setTimeout> | undefined;
  const attempt = async (): Promise<void> => {
    const partitions = held();
    if (partitions.length === 0) return;
    try {
      await renewOnce(partitions);
    } catch (error) {
      logger.warn({ err: error, partitions }, 'partition hold not written; trying again shortly');
      if (every === undefined || again !== undefined) return;
      again = setTimeout(() => {
        again = undefined;
        void attempt();
      }, Math.max(1, Math.floor(leaseMs / 12)));
      again.unref?.();
    }
  };
  return {
    now: attempt,
    start(): void {
      every ??= setInterval(() => void attempt(), Math.max(1, Math.floor(leaseMs / 3)));
      every.unref?.();
    },
    stop(): void {
      clearInterval(every);
      clearTimeout(again);
      every = undefined;
      again = undefined;
    },
  };
}

/** Writes holds of one holder, waiting out a held store (for as long as `deadline` allows, at a stop). */
function holdWriter({ store, logger, leaseMs, now, holder }: Required<Pick<PartitionFenceOptions, 'store' | 'logger' | 'leaseMs' | 'now' | 'holder'>>) {
  const save = async (partitions: readonly number[], released: boolean) => {
    const until = (await now()) + (released ? 0 : leaseMs);
    await store.snapshots.save(partitions.map((partition) => ({ actorId: holdId(partition), snapshot: { holder, released, until } satisfies PartitionHold })));
  };
  const write = (partitions: readonly number[], released: boolean, what: string, deadline?: number): Promise<void> => {
    const log = { logger, what, fields: { partitions } };
    return deadline === undefined ? retryPatiently(() => save(partitions, released), log) : retryStoreCallBy(() => save(partitions, released), deadline, log);
  };
  // A renewal is one write, never retried itself (see `renewals` for when the next comes): a retried
  // one could land after the partition's release and mark it held again.
  const renewOnce = (partitions: readonly number[]) => save(partitions, false);
  return { write, renewOnce };
}

/**
 * Resolves once no partition of `partitions` is held by another instance: released, or its hold
 * lapsed. A holder stops renewing a partition as soon as it is revoked, so this takes at most about a
 * lease; past four of this instance's own time (a holder renewing what it was told to let go of), or
 * when the store cannot be read, it goes on regardless.
 */
async function waitUntilReleased(
  partitions: readonly number[],
  { heldElsewhere, logger, leaseMs, pollMs }: { heldElsewhere: (wanted: readonly number[]) => Promise<number[]>; logger: Logger; leaseMs: number; pollMs: number },
): Promise<void> {
  const started = performance.now();
  const waited = () => Math.round(performance.now() - started);
  const blockedOf = (wanted: readonly number[]) =>
    heldElsewhere(wanted).catch((error: unknown) => {
      logger.warn({ err: error, partitions: wanted }, 'partition holds not read; adopting without waiting');
      return [];
    });
  let blocked = partitions.length === 0 ? [] : await blockedOf(partitions);
  if (blocked.length === 0) return;
  logger.info({ partitions: blocked }, 'waiting for the previous owner to hand over its rules');
  while (blocked.length > 0 && waited() < 4 * leaseMs) {
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    blocked = await blockedOf(blocked);
  }
  if (blocked.length > 0) logger.warn({ partitions: blocked, waitedMs: waited() }, 'previous owner still holds partitions; adopting them');
  else logger.info({ partitions, waitedMs: waited() }, 'previous owner handed over');
}

/** A partition fence of one engine. */
export type PartitionFence = ReturnType<typeof createPartitionFence>;
