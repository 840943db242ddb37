/**
 * Per-lane concurrency: at most `limit(lane)` holders of a lane's slots at once, the others waiting
 * first come, first served. A channel's limit is what it can do in parallel (the SMTP pool's
 * connections, a webhook's parallel requests; one for a stream that must stay in order).
 */
export interface LaneSlots {
  /** Resolves with the release function once a slot of `lane` is free. */
  acquire(lane: string): Promise<() => void>;
  /** Slots held per lane now (lanes with none are absent). */
  held(): Record<string, number>;
}

export function createLaneSlots(limit: (lane: string) => number): LaneSlots {
  const lanes = new Map<string, { held: number; waiting: (() => void)[] }>();

  const release = (lane: string) => {
    const state = lanes.get(lane)!;
    const next = state.waiting.shift();
    // The slot passes straight to the next waiter, so a newcomer cannot overtake it.
    if (next) next();
    else if (--state.held === 0) lanes.delete(lane);
  };

  return {
    acquire(lane) {
      let state = lanes.get(lane);
      if (!state) lanes.set(lane, (state = { held: 0, waiting: [] }));
      let released = false;
      const done = () => {
        if (released) return;
        released = true;
        release(lane);
      };
      if (state.held < Math.max(1, limit(lane))) {
        state.held++;
        return Promise.resolve(done);
      }
      return new Promise((resolve) => state.waiting.push(() => resolve(done)));
    },
    held: () => Object.fromEntries([...lanes].map(([lane, state]) => [lane, state.held])),
  };
}
