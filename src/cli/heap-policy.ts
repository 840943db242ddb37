import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ConfigError } from '../errors.ts';

/** Cumulative time the event loop spent idle and active, in ms (`performance.eventLoopUtilization()`). */
export interface LoopTime {
  idle: number;
  active: number;
}

/** What `governHeap` reads and sets; the defaults are the real event loop and V8's flags. */
export interface HeapPolicyOptions {
  loopTime?: () => LoopTime;
  setFlags?: (flags: string) => void;
  /** A full garbage collection, now (run when the process turns quiet, so V8 sizes the old generation anew). */
  collect?: () => void;
  now?: () => number;
  /** How often the load is looked at (default 250 ms). */
  everyMs?: number;
  /** How many looks the load is judged over, quiet until there are that many (default 8: the last two seconds). */
  windowTicks?: number;
  /** The share of that window the loop must have been busy for the process to count as busy (default 0.35). */
  busyShare?: number;
}

/**
 * V8's flags while starting (until the first full window), quiet and busy. V8's defaults are 2 and 0
 * (0 lets V8 pick the old generation's growth); a start-up held to 20 % collected a 100k-rule heap a
 * dozen times (+60 % CPU to ready).
 */
export const HEAP_FLAGS = {
  starting: '--semi-space-growth-factor=1 --heap-growing-percent=0',
  quiet: '--semi-space-growth-factor=1 --heap-growing-percent=20',
  busy: '--semi-space-growth-factor=2 --heap-growing-percent=0',
} as const;

/** A process turning quiet is collected at most this often (each collection pauses it: ~80 ms at 10k rules). */
const COLLECT_EVERY_MS = 60_000;

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
 * read at every full collection; one collection when the process turns quiet applies it). While busy, V8 sizes both itself: a small young generation promotes
 * more and a tight old generation is collected more often, which costs heavy ingest. The flags are
 * process-wide, so only the commands that own the process use this, never `createRuntime`. Returns the
 * stop, which restores V8's defaults.
 */
export function governHeap(options: HeapPolicyOptions = {}): { stop(): void } {
  const { loopTime = () => performance.eventLoopUtilization(), setFlags = setFlagsFromString, collect = fullCollection(), now = Date.now } = options;
  // A 10k-reading batch every 5 s kept the loop at most 36 % busy over one second, under 20 % over two;
  // heavy ingest on a shared 2-core machine keeps it busy well over that, though not always 70 %.
  const { everyMs = 250, windowTicks = 8, busyShare: busy = 0.35 } = options;
  let flags: string = HEAP_FLAGS.starting;
  let collectedAt = -Infinity;
  setFlags(flags);
  const looks: LoopTime[] = [copy(loopTime())];
  const timer = setInterval(() => {
    looks.push(copy(loopTime()));
    if (looks.length > windowTicks + 1) looks.shift();
    if (looks.length <= windowTicks) return;
    const wanted = busyShare(looks[0]!, looks[looks.length - 1]!) >= busy ? HEAP_FLAGS.busy : HEAP_FLAGS.quiet;
    if (wanted === flags) return;
    setFlags((flags = wanted));
    // The old generation's next collection is at a size V8 set at its last one, under the flags of
    // then: collected now, it is sized by the quiet ones.
    if (wanted === HEAP_FLAGS.quiet && now() - collectedAt >= COLLECT_EVERY_MS) {
      collectedAt = now();
      collect();
    }
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

/** The values of `HEAP_POLICY`: `load` (the default) sizes V8's heap to the load, `v8` leaves V8's own sizing. */
export const HEAP_POLICIES = ['load', 'v8'] as const;

/** Whether `HEAP_POLICY` asks for the policy; a value it does not know is a ConfigError naming the setting. */
export function heapPolicyWanted(value: string | undefined): boolean {
  if (value === undefined || value === '' || value === 'load') return true;
  if (value === 'v8') return false;
  throw new ConfigError(`HEAP_POLICY must be one of ${HEAP_POLICIES.join(', ')} (got '${value}'): 'load' sizes V8's heap to the load, 'v8' leaves it to V8`, 'HEAP_POLICY');
}

/**
 * `run` under `governHeap` from its start to its end: for the commands that own the process until
 * stopped. `HEAP_POLICY=v8` runs it without (a deployment that sets V8's heap flags itself).
 */
export function governed<A extends unknown[], R>(run: (...args: A) => Promise<R>, options?: HeapPolicyOptions): (...args: A) => Promise<R> {
  return async (...args) => {
    if (!heapPolicyWanted(process.env.HEAP_POLICY)) return run(...args);
    const heap = governHeap(options);
    try {
      return await run(...args);
    } finally {
      heap.stop();
    }
  };
}

/**
 * V8's full collection, reached the one way Node offers once running: the `gc` function V8 installs in
 * contexts created after `--expose-gc` is set. Made on first use.
 */
function fullCollection(): () => void {
  let gc: (() => void) | undefined;
  return () => {
    if (!gc) {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as () => void;
    }
    gc();
  };
}

/** A reading's own copy (the real one is a fresh object each time, a fake may reuse one). */
const copy = ({ idle, active }: LoopTime): LoopTime => ({ idle, active });
