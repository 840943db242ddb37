import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { busyShare, governed, governHeap, HEAP_FLAGS, heapPolicyWanted, type LoopTime } from '../../src/cli/heap-policy.ts';
import { ConfigError } from '../../src/errors.ts';

/** An event loop the test drives: each `spend(busyMs)` adds one second, `busyMs` of it active. */
function fakeLoop() {
  const time: LoopTime = { idle: 0, active: 0 };
  return {
    loopTime: () => time,
    spend(busyMs: number) {
      time.active += busyMs;
      time.idle += 1_000 - busyMs;
    },
  };
}

/** The policy on a fake loop, with the flags it set and the collections it ran recorded. */
function policy(windowTicks = 2) {
  const loop = fakeLoop();
  const flags: string[] = [];
  const collections: number[] = [];
  const collect = () => void collections.push(Date.now());
  const heap = governHeap({ loopTime: loop.loopTime, setFlags: (set) => flags.push(set), collect, everyMs: 1_000, windowTicks, busyShare: 0.5 });
  /** One second of the loop busy `busyMs` of it, then the policy's look. */
  const second = (busyMs: number) => {
    loop.spend(busyMs);
    vi.advanceTimersByTime(1_000);
  };
  return { heap, flags, collections, second, last: () => flags[flags.length - 1] };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('busyShare', () => {
  it('is the active share of the time between two readings, 0 when none passed', () => {
    expect(busyShare({ idle: 100, active: 50 }, { idle: 400, active: 150 })).toBe(0.25);
    expect(busyShare({ idle: 100, active: 50 }, { idle: 100, active: 50 })).toBe(0);
  });
});

describe('governHeap', () => {
  it('starts with a young generation that does not grow; quiet, the old one is collected at 20 % growth', () => {
    const { flags, heap } = policy();
    expect(flags).toEqual([HEAP_FLAGS.starting]);
    expect(HEAP_FLAGS.starting).toBe('--semi-space-growth-factor=1 --heap-growing-percent=0');
    expect(HEAP_FLAGS.quiet).toBe('--semi-space-growth-factor=1 --heap-growing-percent=20');
    expect(HEAP_FLAGS.busy).toBe('--semi-space-growth-factor=2 --heap-growing-percent=0');
    heap.stop();
  });

  it('collects once when the process turns quiet, then at most once a minute', () => {
    const { flags, collections, second, heap } = policy();
    second(0);
    second(0);
    expect(flags).toEqual([HEAP_FLAGS.starting, HEAP_FLAGS.quiet]);
    expect(collections).toHaveLength(1);
    second(1_000);
    second(1_000);
    second(0);
    second(0);
    // Busy and quiet again 4 s later: not collected again so soon.
    expect(flags).toEqual([HEAP_FLAGS.starting, HEAP_FLAGS.quiet, HEAP_FLAGS.busy, HEAP_FLAGS.quiet]);
    expect(collections).toHaveLength(1);
    for (let i = 0; i < 60; i++) second(0);
    second(1_000);
    second(1_000);
    second(0);
    second(0);
    expect(collections).toHaveLength(2);
    heap.stop();
  });

  it('gives V8 back its own sizing once the loop was busy half of the last two seconds, and takes it again when quiet', () => {
    const { flags, second, heap } = policy();
    second(1_000);
    // One look is not a window yet.
    expect(flags).toEqual([HEAP_FLAGS.starting]);
    second(100);
    // 1.1 s busy of the last 2 s.
    expect(flags).toEqual([HEAP_FLAGS.starting, HEAP_FLAGS.busy]);
    second(900);
    second(100);
    // 1.0 s of 2 s: still busy.
    expect(flags).toEqual([HEAP_FLAGS.starting, HEAP_FLAGS.busy]);
    second(0);
    expect(flags).toEqual([HEAP_FLAGS.starting, HEAP_FLAGS.busy, HEAP_FLAGS.quiet]);
    heap.stop();
  });

  it('does not count a burst in a quiet process as busy (a batch of readings every few seconds)', () => {
    const { flags, second, heap } = policy();
    for (let i = 0; i < 20; i++) second(i % 5 === 0 ? 400 : 20);
    expect(flags).toEqual([HEAP_FLAGS.starting, HEAP_FLAGS.quiet]);
    heap.stop();
  });

  it('by default reacts within a second of heavy ingest, and not to a batch every few seconds', () => {
    const time: LoopTime = { idle: 0, active: 0 };
    const flags: string[] = [];
    const heap = governHeap({ loopTime: () => time, setFlags: (set) => flags.push(set), collect: () => undefined });
    const quarter = (busyMs: number) => {
      time.active += busyMs;
      time.idle += 250 - busyMs;
      vi.advanceTimersByTime(250);
    };
    // A batch every 5 s, each keeping the loop busy for 600 ms.
    for (let quarters = 0; quarters < 80; quarters++) quarter(quarters % 20 < 2 ? 250 : quarters % 20 === 2 ? 100 : 5);
    expect(flags).toEqual([HEAP_FLAGS.starting, HEAP_FLAGS.quiet]);
    for (let quarters = 0; quarters < 4; quarters++) quarter(250);
    expect(flags).toEqual([HEAP_FLAGS.starting, HEAP_FLAGS.quiet, HEAP_FLAGS.busy]);
    heap.stop();
  });

  it('stops looking and restores V8’s defaults at stop', () => {
    const { flags, second, heap } = policy();
    heap.stop();
    expect(flags).toEqual([HEAP_FLAGS.starting, HEAP_FLAGS.busy]);
    second(1_000);
    second(1_000);
    expect(flags).toHaveLength(2);
  });

  it('sets a flag only when the judgement changes, always the one the last window calls for (any load)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1_000 }), { maxLength: 60 }), fc.integer({ min: 1, max: 5 }), (seconds, windowTicks) => {
        const { flags, second, heap, last } = policy(windowTicks);
        seconds.forEach((busyMs, i) => {
          second(busyMs);
          const window = seconds.slice(Math.max(0, i + 1 - windowTicks), i + 1);
          const share = window.reduce((a, b) => a + b, 0) / (window.length * 1_000);
          const judged = window.length === windowTicks ? (share >= 0.5 ? HEAP_FLAGS.busy : HEAP_FLAGS.quiet) : HEAP_FLAGS.starting;
          expect(last()).toBe(judged);
        });
        for (let i = 1; i < flags.length; i++) expect(flags[i]).not.toBe(flags[i - 1]);
        heap.stop();
        expect(last()).toBe(HEAP_FLAGS.busy);
      }),
    );
  });
});

describe('governed', () => {
  it('runs the command under the policy and restores V8’s defaults when it ends, even by an error', async () => {
    const seen: string[] = [];
    const options = { setFlags: (set: string) => void seen.push(set), loopTime: () => ({ idle: 0, active: 0 }), collect: () => undefined };
    await expect(governed(async () => 'done', options)()).resolves.toBe('done');
    expect(seen).toEqual([HEAP_FLAGS.starting, HEAP_FLAGS.busy]);
    await expect(governed(async () => Promise.reject(new Error('failed')), options)()).rejects.toThrow('failed');
    expect(seen).toEqual([HEAP_FLAGS.starting, HEAP_FLAGS.busy, HEAP_FLAGS.starting, HEAP_FLAGS.busy]);
  });

  it('leaves V8 its own sizing under HEAP_POLICY=v8, and names the setting for a value it does not know', async () => {
    const seen: string[] = [];
    const options = { setFlags: (set: string) => void seen.push(set), loopTime: () => ({ idle: 0, active: 0 }), collect: () => undefined };
    vi.stubEnv('HEAP_POLICY', 'v8');
    try {
      await expect(governed(async () => 'done', options)()).resolves.toBe('done');
      expect(seen).toEqual([]);
      vi.stubEnv('HEAP_POLICY', 'tight');
      await expect(governed(async () => 'done', options)()).rejects.toThrow(ConfigError);
      expect(seen).toEqual([]);
    } finally {
      vi.unstubAllEnvs();
    }
    expect(heapPolicyWanted(undefined)).toBe(true);
    expect(heapPolicyWanted('load')).toBe(true);
    expect(() => heapPolicyWanted('tight')).toThrow(/HEAP_POLICY must be one of load, v8 \(got 'tight'\)/);
  });
});
