/** A send the memory knows of: the row that carried a dedup key on a channel, and when. */
export interface RememberedSend {
  id: string;
  sentAt: string;
}

/**
 * The send (its row's id and ISO time) that a new notification of `channel` and `dedupKey` would
 * repeat within the repeat window, as its deliverer remembers it; undefined when it knows of none.
 */
export type RepeatOf = (channel: string, dedupKey: string) => RememberedSend | undefined;

/** A notification left unwritten as a repeat: its channel, and the send that covered it. */
export interface Repeat {
  channel: string;
  coveredBy: string;
}

/**
 * The recent sends per (channel, dedup key), so that a repeat is recognised without asking the
 * store. Bounded: past `capacity` the entry updated longest ago goes first, and entries sent before
 * the window are dropped by `forget`. It only ever answers "sent since": a key it does not know may
 * still have been sent (by another instance, or before a restart), and the store is asked then.
 */
export class DedupMemory {
  readonly #sends = new Map<string, RememberedSend>();
  readonly #capacity: number;

  constructor(capacity = 50_000) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity: expected a positive integer, got ${capacity}`);
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#sends.size;
  }

  /** The newest send of `key` on `channel` at or after `since` (ISO), when remembered. */
  sentSince(channel: string, key: string, since: string): RememberedSend | undefined {
    const send = this.#sends.get(channel + '\u0000' + key);
    return send && send.sentAt >= since ? send : undefined;
  }

  /** Records a send; an older one than the send already remembered for the pair is ignored. */
  remember(channel: string, key: string, send: RememberedSend): void {
    const slot = channel + '\u0000' + key;
    const known = this.#sends.get(slot);
    if (known && known.sentAt > send.sentAt) return;
    // Re-inserted so that the Map's order is the order of updates: the first entry is the stalest.
    this.#sends.delete(slot);
    this.#sends.set(slot, send);
    if (this.#sends.size > this.#capacity) this.#sends.delete(this.#sends.keys().next().value!);
  }

  /** Drops every send before `cutoff` (ISO): outside the repeat window, it suppresses nothing. */
  forget(cutoff: string): void {
    for (const [slot, send] of this.#sends) if (send.sentAt < cutoff) this.#sends.delete(slot);
  }
}
