import { Observable } from 'rxjs';

/** One clock tick; times are epoch milliseconds. */
export interface Tick {
  /** Slot number: the tick was due at start + n × period. */
  n: number;
  /** When the tick was due. */
  scheduledAt: number;
  /** When it was emitted. */
  firedAt: number;
  /** firedAt − scheduledAt: how late the tick is, always in [0, period). */
  jitterMs: number;
  /** Slots skipped just before this one because the consumer or the event loop fell behind by a whole period or more. */
  skipped: number;
}

/** Options of `ticks`. */
export interface TicksOptions {
  /** Also emit tick 0 right after subscribing (asynchronously, like every tick); default false. */
  immediate?: boolean;
}

/**
 * A drift-free clock: tick n is due at start + n × periodMs (start = subscription time), and each
 * timer is armed for exactly the time left until its slot, so lateness never accumulates. Slots
 * missed by a whole period or more are skipped (see `Tick.skipped`) rather than fired in a burst.
 */
export function ticks(periodMs: number, options: TicksOptions = {}): Observable<Tick> {
  if (!(Number.isFinite(periodMs) && periodMs > 0)) {
    throw new RangeError(`periodMs must be a finite number > 0, got ${String(periodMs)}`);
  }
  const firstSlot = options.immediate === true ? 0 : 1;

  return new Observable<Tick>((subscriber) => {
    const start = Date.now();
    let next = firstSlot;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const arm = (): void => {
      timer = setTimeout(onTimer, Math.max(0, start + next * periodMs - Date.now()));
    };

    const onTimer = (): void => {
      const now = Date.now();
      // Node's timers run on a monotonic clock and may wake a millisecond before Date.now()
      // reaches the slot; wait for the rest so that firedAt ≥ scheduledAt always holds.
      if (now < start + next * periodMs) {
        arm();
        return;
      }
      // The latest slot already due: earlier ones are more than a period late and are skipped.
      let n = Math.max(next, Math.floor((now - start) / periodMs));
      // Fractional periods: the division may round up past a slot whose product is still ahead of now.
      if (n > next && start + n * periodMs > now) n -= 1;
      const scheduledAt = start + n * periodMs;
      const skipped = n - next;
      next = n + 1;
      subscriber.next({ n, scheduledAt, firedAt: now, jitterMs: now - scheduledAt, skipped });
      // Arming after next() returns means a slow synchronous consumer is seen at the next wake-up.
      if (!subscriber.closed) arm();
    };

    arm();
    return () => clearTimeout(timer);
  });
}
