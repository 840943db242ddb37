/**
 * Whether every due row of the outbox is claimed, as the in-process notifier knows it: true once a
 * claim came back short of its limit, until the first row left pending falls due (a row due later,
 * or a retry, written before its time). While it holds, rows written for the notifier may be handed
 * to it straight away; once it lapses they wait for a claim, behind the rows due before them.
 */
export interface ClaimWatermark {
  /** A claim starts: rows may be left behind until it comes back. */
  claiming(): void;
  /** A claim came back short of its limit; `nextDueAt`: when the first row still pending falls due (null: none is). */
  caughtUp(nextDueAt: string | null): void;
  /** A retry written for `at`: from then on it waits for a claim. */
  retryAt(at: string | null | undefined): void;
  /** Whether no due row waits unclaimed now. */
  holds(): boolean;
}

export function claimWatermark(now: () => number = Date.now): ClaimWatermark {
  let caughtUp = false;
  let nextDue = Number.POSITIVE_INFINITY;
  const retryAt = (at: string | null | undefined) => {
    if (at) nextDue = Math.min(nextDue, Date.parse(at));
  };
  return {
    // What a claim finds pending replaces what was known before it; a retry recorded while the claim
    // runs is kept, whether or not the claim's own look-up saw its row (kept, it only errs early).
    claiming() {
      caughtUp = false;
      nextDue = Number.POSITIVE_INFINITY;
    },
    caughtUp(nextDueAt) {
      retryAt(nextDueAt);
      caughtUp = true;
    },
    retryAt,
    holds: () => caughtUp && now() < nextDue,
  };
}
