/** The types of the alert machine (`alert.ts`) and of its evaluation rules (`alert-evaluation.ts`). */
import type { Rule } from '../domain/rule.ts';

/** The states a rule actor can resume in after a restart. */
export type AlertStateName = 'ok' | 'pending' | 'firing' | 'clearing' | 'nodata';

/**
 * Everything the machine knows. `now` is the actor's clock (where its timers run); every other time
 * is on the evaluation timeline: a reading's own `ts` (reactive), or the interval evaluation's time.
 * Both are epoch milliseconds.
 */
export interface AlertContext {
  rule: Rule;
  /** Whether deadlines re-evaluate the latest reading when they fall due (off in interval mode). */
  timers: boolean;
  /** The actor's clock at the last event; timers are armed from it. */
  now: number;
  /** The time of the last evaluation: evaluations never go back in time. */
  evaluatedAt: number | null;
  /** The latest reading's value, and its `ts`. */
  value: number | null;
  lastReadingAt: number | null;
  /** When the current state began. */
  since: number | null;
  /** When the breach of the current episode began (Prometheus's `active_at`). */
  activeAt: number | null;
  /** The first evaluation that found a firing alert's value cleared (keep-firing countdown). */
  keepSince: number | null;
  /** When a pending breach may fire: `activeAt + for_seconds`. */
  pendingUntil: number | null;
  /** When a clearing alert may resolve: `keepSince + keep_firing_for_seconds`. */
  clearUntil: number | null;
  /** The deadline the timer re-evaluates at (null: none armed). */
  wakeAt: number | null;
  /** When the open alert fired. */
  triggeredAt: number | null;
  /** The state to enter on RESUME: the state persisted at the last stop. */
  resume: AlertStateName;
}

/** What the state persisted at a stop carries into the next process. */
export type PersistedAlert = { state: AlertStateName; context: Partial<Omit<AlertContext, 'rule' | 'resume' | 'timers'>> };

/**
 * A rule actor is created from its rule, the actor's clock now and, after a restart, what was
 * persisted. `timers: false` (interval mode): states change only at EVALUATE events.
 */
export interface AlertInput {
  rule: Rule;
  now: number;
  timers?: boolean;
  restored?: PersistedAlert;
}

/** What a transition that writes asks the runtime to write: the rule fired or resolved with `value` at `at`. */
export interface AlertIntent {
  rule: Rule;
  value: number;
  at: number;
}

/**
 * `EVALUATE`: an evaluation at time `at` of the latest reading (`value` taken at `ts`; null when the
 * series has none); `now` is the actor's clock. `DEADLINE`: the machine's own timer, a re-evaluation
 * of the latest reading at `at`. `RESUME`: enter the restored state. `RETIRE`: the rule is gone.
 */
export type AlertMachineEvent =
  | { type: 'EVALUATE'; at: number; now: number; value: number | null; ts: number | null }
  | { type: 'DEADLINE'; at: number; now: number }
  | { type: 'RESUME'; now: number }
  | { type: 'RULE_UPDATED'; rule: Rule; now: number }
  | { type: 'RETIRE' };

/** The transitions a rule reports (metrics, logs); firing and resolving are reported by their intents. */
export type AlertTransition = 'pending' | 'ok' | 'nodata';
