/** Writes the latest value of each key, one write per key at a time (see `latestWriter`). */
export interface LatestWriter<K, V> {
  /** Asks for `value` to be written under `key`; a value set while a write of the key runs replaces any not yet written. */
  set(key: K, value: V): void;
  /** Resolves once every value set so far is written or given up. */
  drain(): Promise<void>;
}

/**
 * Stored state that only its latest value matters for (a plugin's health): writes of one key never
 * overlap, so an older value retried after a lock can never land over a newer one, and values set
 * while a write runs collapse into one write of the newest. At most one value waits per key.
 * A write that rejects is reported to `failed` and the key's next value, if any, is written.
 */
export function latestWriter<K, V>(write: (key: K, value: V) => Promise<void>, failed: (key: K, error: unknown) => void): LatestWriter<K, V> {
  const waiting = new Map<K, V>();
  const running = new Map<K, Promise<void>>();

  const run = async (key: K): Promise<void> => {
    while (waiting.has(key)) {
      const value = waiting.get(key) as V;
      waiting.delete(key);
      try {
        await write(key, value);
      } catch (error) {
        failed(key, error);
      }
    }
    running.delete(key);
  };

  return {
    set(key, value) {
      waiting.set(key, value);
      if (!running.has(key)) running.set(key, run(key));
    },
    async drain() {
      while (running.size > 0) await Promise.all(running.values());
    },
  };
}
