/**
 * How the long-lived machines drain on STOP. The state doing a unit of work holds its invoke and two
 * children: `inFlight` and `stopping`. A STOP in `inFlight` moves to `stopping`, which stays inside the
 * working state, so the work is neither cancelled nor lost. The invoke's onDone/onError count the
 * outcome once and raise SETTLED; the active child then decides: `inFlight` goes back to `waiting`,
 * `stopping` goes to the final `stopped`. The drain thus shows in the machine's graph, with no flag.
 */
export type SettledEvent = { type: 'SETTLED' };
