/**
 * The evaluation rules of the alert machine (`alert.ts`), as pure functions of its context and
 * event: what an evaluation sees, whether it breaches, clears or hears silence, the deadlines a
 * state arms, and the context a new or restored actor starts from. The machine only wires them.
 */
import type { Operator } from '../domain/rule.ts';
import { breaches, clears, compare } from '../domain/threshold.ts';
import type { AlertContext, AlertInput, AlertIntent, AlertMachineEvent } from './alert-types.ts';

/** The states that arm a deadline timer. */
export type Armed = 'ok' | 'pending' | 'clearing';

// Rounded to whole milliseconds: `60.001 * 1000` is not exactly 60001 in floating point.
export const seconds = (s: number | null | undefined): number => Math.round((s ?? 0) * 1_000);

/** One evaluation: its time (never before the last one) and the latest reading at it. */
export interface Evaluation {
  at: number;
  value: number | null;
  ts: number | null;
}

/** What the breach check reads of a context: the rule and the latest reading. */
export type LatestReading = Pick<AlertContext, 'rule' | 'value' | 'lastReadingAt'>;

/** Whether an EVALUATE brings a reading at least as new as the one the actor has. */
function bringsNewer(context: LatestReading, event: Extract<AlertMachineEvent, { type: 'EVALUATE' }>): boolean {
  return event.ts !== null && (context.lastReadingAt === null || event.ts >= context.lastReadingAt);
}

/** The evaluation an event stands for. */
export function evaluation(context: AlertContext, event: AlertMachineEvent): Evaluation {
  const last = context.evaluatedAt ?? Number.NEGATIVE_INFINITY;
  if (event.type === 'EVALUATE') {
    // The reading the actor already had is newer than the one given (a stored reading not yet rewritten): keep it.
    return bringsNewer(context, event)
      ? { at: Math.max(event.at, last), value: event.value, ts: event.ts }
      : { at: Math.max(event.at, last), value: context.value, ts: context.lastReadingAt };
  }
  const at = event.type === 'DEADLINE' ? event.at : last;
  return { at: Math.max(at, last), value: context.value, ts: context.lastReadingAt };
}

/** The latest reading's value at the evaluation (`evaluation(...).value`, without building the evaluation). */
export function latestValue(context: LatestReading, event: AlertMachineEvent): number | null {
  return event.type === 'EVALUATE' && bringsNewer(context, event) ? event.value : context.value;
}

/** Whether the rule heard nothing for `nodata_seconds` at the evaluation (never without `nodata_seconds`). */
export function silent(context: AlertContext, e: Evaluation): boolean {
  if (context.rule.nodata_seconds == null) return false;
  const heard = e.ts ?? context.since ?? e.at;
  return e.at - heard >= seconds(context.rule.nodata_seconds);
}

/** The deadline of the nodata watch, when the rule has one. */
export const nodataAt = (c: AlertContext): number | null =>
  c.rule.nodata_seconds == null ? null : (c.lastReadingAt ?? c.since ?? c.now) + seconds(c.rule.nodata_seconds);

/** Whether the event's evaluation finds the rule silent. */
export const isSilent = (context: AlertContext, event: AlertMachineEvent): boolean =>
  context.rule.nodata_seconds != null && silent(context, evaluation(context, event));

/**
 * Whether a rule in `nodata` stays there: only a reading young enough at the evaluation leaves it.
 * With no reading at all, the silence goes on (measuring it from the state's start would flip the
 * rule back to `ok` at the next evaluation and to `nodata` again `nodata_seconds` later).
 */
export const isStillSilent = (context: AlertContext, event: AlertMachineEvent): boolean => {
  if (context.rule.nodata_seconds == null) return false;
  const e = evaluation(context, event);
  return e.ts === null || silent(context, e);
};

/** Whether the latest value at the evaluation breaches the rule. */
export function isBreaching(context: LatestReading, event: AlertMachineEvent): boolean {
  const value = latestValue(context, event);
  return value !== null && breaches(context.rule, value);
}

/**
 * Whether an EVALUATE leaves a rule in `ok` as it is: the machine's `ok` takes a transition only on
 * silence, a breach, or to re-arm a nodata watch, and without `nodata_seconds` neither silence nor a
 * watch can happen. The one check per reading on the readings path (rule-actors.ts), instead of
 * asking XState to select transitions.
 */
export const quietInOk = (context: LatestReading, event: Extract<AlertMachineEvent, { type: 'EVALUATE' }>): boolean =>
  context.rule.nodata_seconds == null && !isBreaching(context, event);

/**
 * What `staysQuiet` reads: a copy of a rule's breach test and of the latest reading the rule has. A
 * series' route holds one (see `Route`), so that a reading judged there reaches no other object.
 */
export interface QuietCopy {
  quietOperator: Operator;
  quietThreshold: number;
  quietValue: number | null;
  quietReadingAt: number | null;
}

/** Copies into `to` what `quietInOk` reads of `from` (a context, or an entry). */
export function copyQuiet(to: QuietCopy, { rule, value, lastReadingAt }: LatestReading): void {
  to.quietOperator = rule.operator;
  to.quietThreshold = rule.threshold;
  to.quietValue = value;
  to.quietReadingAt = lastReadingAt;
}

/**
 * `quietInOk` of a rule without a nodata watch, read from a copy of what it reads (`copyQuiet`).
 * Written out rather than calling the functions above, so that its property loads see the one
 * shape of the routes that hold such copies, not every shape of context and entry `quietInOk` is
 * given (on the readings path a megamorphic load costs several times more).
 */
export function staysQuiet(seen: QuietCopy, event: Extract<AlertMachineEvent, { type: 'EVALUATE' }>): boolean {
  const newer = event.ts !== null && (seen.quietReadingAt === null || event.ts >= seen.quietReadingAt);
  const value = newer ? event.value : seen.quietValue;
  return value === null || !compare(value, seen.quietOperator, seen.quietThreshold);
}

/** Whether the latest value at the evaluation is past the clear threshold. */
export function isCleared(context: AlertContext, event: AlertMachineEvent): boolean {
  const value = latestValue(context, event);
  return value !== null && clears(context.rule, value);
}

/** Breaching, and the breach has lasted `for_seconds` at the evaluation. */
export function breachHeld(context: AlertContext, event: AlertMachineEvent): boolean {
  if (!isBreaching(context, event)) return false;
  const { at } = evaluation(context, event);
  return at - (context.activeAt ?? at) >= seconds(context.rule.for_seconds);
}

/** Cleared, and the keep-firing time (none, or since the first cleared evaluation) is over. */
export function keepOver(context: AlertContext, event: AlertMachineEvent): boolean {
  if (!isCleared(context, event)) return false;
  const { at } = evaluation(context, event);
  return at - (context.keepSince ?? at) >= seconds(context.rule.keep_firing_for_seconds);
}

/** What an evaluation records: its time, the latest reading, the actor's clock. */
export function observed(context: AlertContext, event: AlertMachineEvent): Pick<AlertContext, 'evaluatedAt' | 'value' | 'lastReadingAt' | 'now'> {
  const e = evaluation(context, event);
  const now = 'now' in event ? Math.max(context.now, event.now) : context.now;
  return { evaluatedAt: e.at, value: e.value, lastReadingAt: e.ts, now };
}

/** What each marking transition sets besides the evaluation, at the evaluation's time `at`. */
const MARKS = {
  /** A breach begins: pending, active_at = now. */
  startPending: (at: number) => ({ since: at, activeAt: at, keepSince: null }),
  /** A breach begins and fires in the same evaluation (`for` is 0). */
  startFiring: (at: number) => ({ since: at, activeAt: at, triggeredAt: at, keepSince: null }),
  markTriggered: (at: number) => ({ since: at, triggeredAt: at, keepSince: null }),
  startKeep: (at: number) => ({ keepSince: at }),
  stopKeep: () => ({ keepSince: null, clearUntil: null }),
  markOk: (at: number) => ({ since: at, activeAt: null, keepSince: null, triggeredAt: null, pendingUntil: null, clearUntil: null }),
  markSilent: (at: number) => ({ since: at, activeAt: null, pendingUntil: null }),
} satisfies Record<string, (at: number) => Partial<AlertContext>>;

/** The transitions that mark a change besides recording their evaluation. */
export type Mark = keyof typeof MARKS;

/**
 * What a marking transition records: the evaluation (as `observed`) and its marks, in one context
 * update (each XState assign clones the whole snapshot).
 */
export function marked(context: AlertContext, event: AlertMachineEvent, mark: Mark): Partial<AlertContext> {
  const seen: Partial<AlertContext> = observed(context, event);
  return Object.assign(seen, MARKS[mark](seen.evaluatedAt!));
}

/** The deadlines of a state, and the one its timer wakes at (the earliest; null without timers or deadlines). */
export function deadlines(context: AlertContext, state: Armed): Pick<AlertContext, 'pendingUntil' | 'clearUntil' | 'wakeAt'> {
  const nodata = state === 'clearing' ? null : nodataAt(context);
  const pendingUntil = state === 'pending' ? (context.activeAt ?? context.now) + seconds(context.rule.for_seconds) : null;
  const clearUntil = state === 'clearing' ? (context.keepSince ?? context.now) + seconds(context.rule.keep_firing_for_seconds) : null;
  let wakeAt: number | null = null;
  if (context.timers) {
    for (const due of [nodata, pendingUntil, clearUntil]) if (due !== null && (wakeAt === null || due < wakeAt)) wakeAt = due;
  }
  return { pendingUntil, clearUntil, wakeAt };
}

/** The intent of a transition that writes: the rule, the value evaluated, the evaluation's time. */
export const intentOf = (context: AlertContext): AlertIntent => ({ rule: context.rule, value: context.value ?? Number.NaN, at: context.evaluatedAt ?? context.now });

/** The context of a new actor, or of one restored from what an earlier process persisted. */
export function initialContext(input: AlertInput): AlertContext {
  const restored = input.restored?.context ?? {};
  const resume = input.restored?.state ?? 'ok';
  const since = restored.since ?? input.now;
  return {
    rule: input.rule,
    timers: input.timers ?? true,
    evaluatedAt: null,
    value: null,
    lastReadingAt: null,
    pendingUntil: null,
    clearUntil: null,
    triggeredAt: null,
    ...restored,
    since,
    // State persisted before `activeAt`/`keepSince` existed: the state's start is the best estimate.
    activeAt: restored.activeAt ?? (resume === 'pending' ? since : (restored.triggeredAt ?? null)),
    keepSince: restored.keepSince ?? (resume === 'clearing' ? since : null),
    wakeAt: null,
    now: input.now,
    resume,
  };
}
