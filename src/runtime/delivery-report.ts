import type { DeliveryOutcome } from '../actors/notifier.ts';
import { FALLBACK_CHANNEL } from '../channels/routing.ts';
import type { DeliveryResult } from '../storage/store.ts';
import type { RunReporter } from './run-reporter.ts';

/** One row's delivery: its outcome, and what `settle` records for it (nothing when the store was not reached). */
export interface Attempted {
  outcome: DeliveryOutcome;
  result?: DeliveryResult;
}

/** Counts outcomes per channel, `n` at a time. */
export type CountOutcomes = (channel: string, outcome: DeliveryOutcome['kind'] | 'fallback', n: number) => void;

/** One run report per channel and one count per outcome for a whole batch. */
export function reportBatch(attempted: Attempted[], runs: RunReporter, count: CountOutcomes): void {
  const lanes = new Map<string, { error?: string; counts: Map<string, number> }>();
  let fellBack = 0;
  for (const { outcome } of attempted) {
    let lane = lanes.get(outcome.lane);
    if (!lane) lanes.set(outcome.lane, (lane = { counts: new Map() }));
    lane.counts.set(outcome.kind, (lane.counts.get(outcome.kind) ?? 0) + 1);
    if (outcome.kind === 'retrying' || outcome.kind === 'failed') lane.error = outcome.error;
    if (outcome.fellBack) fellBack++;
  }
  for (const [name, lane] of lanes) {
    for (const [kind, n] of lane.counts) count(name, kind as DeliveryOutcome['kind'], n);
    // A channel's run failed when any of its sends did; rows suppressed as repeats are no run of it.
    const carried = lane.counts.has('sent') || lane.counts.has('retrying') || lane.counts.has('failed');
    if (carried) runs.report(`channel:${name}`, lane.error === undefined ? { ok: true } : { ok: false, error: lane.error });
  }
  if (fellBack > 0) count(FALLBACK_CHANNEL, 'fallback', fellBack);
}
