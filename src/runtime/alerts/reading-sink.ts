import type { Reading } from '../../domain/reading.ts';
import type { Store } from '../../storage/store.ts';

/** Options of `createReadingSink`. */
export interface ReadingSinkOptions {
  store: Store;
  /** How long readings wait to be coalesced before they are written (default 250 ms). */
  flushMs?: number;
  /** Pending series that trigger a write at once (default 100 000). */
  maxPending?: number;
}

/**
 * Write-behind of the latest reading per series: readings added within `flushMs` are coalesced
 * (newest `ts` per series wins, as in the store) and written with one `upsertLatest`, so the
 * readings path costs one store transaction per flush, not one per reading or per batch. `add`
 * resolves once its readings are stored, so HTTP answers and broker acks still follow the write.
 */
export function createReadingSink(options: ReadingSinkOptions) {
  const flushMs = options.flushMs ?? 250;
  const maxPending = options.maxPending ?? 100_000;
  let pending = new Map<string, Reading>();
  let waiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let writing: Promise<void> = Promise.resolve();

  function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const batch = [...pending.values()];
    const settled = waiters;
    pending = new Map();
    waiters = [];
    writing = writing.then(async () => {
      try {
        await options.store.readings.upsertLatest(batch);
        for (const w of settled) w.resolve();
      } catch (error) {
        for (const w of settled) w.reject(error);
      }
    });
    return writing;
  }

  return {
    /** Queues readings (each with its series key); resolves when they are stored. */
    add(readings: { key: string; reading: Reading }[]): Promise<void> {
      if (readings.length === 0) return Promise.resolve();
      for (const { key, reading } of readings) {
        const current = pending.get(key);
        if (!current || reading.ts >= current.ts) pending.set(key, reading);
      }
      const stored = new Promise<void>((resolve, reject) => waiters.push({ resolve, reject }));
      if (pending.size >= maxPending) void flush();
      else timer ??= setTimeout(() => void flush(), flushMs);
      return stored;
    },
    /** Writes whatever is pending now, and waits for every write so far. */
    async flush(): Promise<void> {
      if (pending.size > 0 || waiters.length > 0) await flush();
      await writing;
    },
  };
}

/** The write-behind of readings of one runtime. */
export type ReadingSink = ReturnType<typeof createReadingSink>;
