import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';

/** Cumulative time the event loop spent idle and active, in ms (`performance.eventLoopUtilization()`). */
export interface LoopTime {
  idle: number;
  active: number;
}

/** What `governHeap` reads and sets; the defaults are the real event loop and V8's flags. */
export interface HeapPolicyOptions {
  loopTime?: () => LoopTime;
  setFlags?: (flags: string) => void;
  /** How often the load is looked at (default 250 ms). */
  everyMs?: number;
  /** How many looks the load is judged over, quiet until there are that many (default 4: the last second). */
  windowTicks?: number;
  /** The share of that window the loop must have been busy for the process to count as busy (default 0.7). */
  busyShare?: number;
}

/** V8's flags for a quiet process and for a busy one (V8's defaults: 0 lets V8 pick its old-generation growth). */
export const HEAP_FLAGS = {
  quiet: '--semi-space-growth-factor=1 --heap-growing-percent=20',
  busy: '--semi-space-growth-factor=2 --heap-growing-percent=0',
} as const;

/** The share of the time between two readings the event loop was busy (0 when no time passed). */
export function busyShare(from: LoopTime, to: LoopTime): number {
  const active = to.active - from.active;
  const total = active + (to.idle - from.idle);
  return total > 0 ? active / total : 0;
}

/**
 * Keeps V8's heap close to what the process holds while the process is quiet, and leaves V8 its own
 * sizing while it is busy (the event loop busy for `busyShare` of the last `windowTicks` looks: heavy
 * ingest keeps it busy all the time, a batch every few seconds for a fraction of a second). V8
 * doubles the young generation (two semi-spaces, up to 16 MB each, all resident) whenever enough
 * survives its scavenges and gives it back only after about five seconds of almost no allocation, so
 * a process fed a batch every few seconds would keep 32 MB of semi-spaces for good; and after a full
 * collection it lets the old generation grow up to a few times what the collection kept before the
 * next. While quiet, the young generation stays at its size (`--semi-space-growth-factor=1`, read at
 * every growth) and the old generation is collected once it has grown 20 % (`--heap-growing-percent`,
 * read at every full collection). While busy, V8 sizes both itself: a small young generation promotes
 * more and a tight old generation is collected more often, which costs heavy ingest. The flags are
 * process-wide, so only the commands that own the process use this, never `createRuntime`. Returns the
 * stop, which restores V8's defaults.
 */
export function governHeap(options: HeapPolicyOptions = {}): { stop(): void } {
  const { loopTime = () => performance.eventLoopUtilization(), setFlags = setFlagsFromString } = options;
  const { everyMs = 250, windowTicks = 4, busyShare: busy = 0.7 } = options;
  let flags: string = HEAP_FLAGS.quiet;
  setFlags(flags);
  const looks: LoopTime[] = [copy(loopTime())];
  const timer = setInterval(() => {
    looks.push(copy(loopTime()));
    if (looks.length > windowTicks + 1) looks.shift();
    const full = looks.length > windowTicks;
    const wanted = full && busyShare(looks[0]!, looks[looks.length - 1]!) >= busy ? HEAP_FLAGS.busy : HEAP_FLAGS.quiet;
    if (wanted !== flags) setFlags((flags = wanted));
  }, everyMs);
  // Never what keeps the process alive: the command's own work does.
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      if (flags !== HEAP_FLAGS.busy) setFlags((flags = HEAP_FLAGS.busy));
    },
  };
}

/** `run` under `governHeap` from its start to its end: for the commands that own the process until stopped. */
export function governed<A extends unknown[], R>(run: (...args: A) => Promise<R>, options?: HeapPolicyOptions): (...args: A) => Promise<R> {
  return async (...args) => {
    const heap = governHeap(options);
    try {
      return await run(...args);
    } finally {
      heap.stop();
    }
  };
}

/** A reading's own copy (the real one is a fresh object each time, a fake may reuse one). */
const copy = ({ idle, active }: LoopTime): LoopTime => ({ idle, active });
