import { assign, enqueueActions, setup } from 'xstate';
import type { Rule } from '../domain/rule.ts';
import { breaches, clears } from '../domain/threshold.ts';

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

type Armed = 'ok' | 'pending' | 'clearing';

// Rounded to whole milliseconds: `60.001 * 1000` is not exactly 60001 in floating point.
const seconds = (s: number | null | undefined): number => Math.round((s ?? 0) * 1_000);

/** One evaluation: its time (never before the last one) and the latest reading at it. */
interface Evaluation {
  at: number;
  value: number | null;
  ts: number | null;
}

function evaluation(context: AlertContext, event: AlertMachineEvent): Evaluation {
  const last = context.evaluatedAt ?? Number.NEGATIVE_INFINITY;
  if (event.type === 'EVALUATE') {
    // The reading the actor already had is newer than the one given (a stored reading not yet rewritten): keep it.
    const newer = event.ts !== null && (context.lastReadingAt === null || event.ts >= context.lastReadingAt);
    return newer
      ? { at: Math.max(event.at, last), value: event.value, ts: event.ts }
      : { at: Math.max(event.at, last), value: context.value, ts: context.lastReadingAt };
  }
  const at = event.type === 'DEADLINE' ? event.at : last;
  return { at: Math.max(at, last), value: context.value, ts: context.lastReadingAt };
}

/** Whether the rule heard nothing for `nodata_seconds` at the evaluation (never without `nodata_seconds`). */
function silent(context: AlertContext, e: Evaluation): boolean {
  if (context.rule.nodata_seconds == null) return false;
  const heard = e.ts ?? context.since ?? e.at;
  return e.at - heard >= seconds(context.rule.nodata_seconds);
}

/** The deadline of the nodata watch, when the rule has one. */
const nodataAt = (c: AlertContext): number | null =>
  c.rule.nodata_seconds == null ? null : (c.lastReadingAt ?? c.since ?? c.now) + seconds(c.rule.nodata_seconds);

const breach = (c: AlertContext, e: Evaluation) => e.value !== null && breaches(c.rule, e.value);
const cleared = (c: AlertContext, e: Evaluation) => e.value !== null && clears(c.rule, e.value);

/**
 * One threshold rule, with Prometheus's alerting semantics at each evaluation (see `alertMachine`).
 * Guards and actions read the evaluation from the event: its time and the latest reading at it.
 */
const alertSetup = setup({
  types: {
    context: {} as AlertContext,
    input: {} as AlertInput,
    events: {} as AlertMachineEvent,
  },
  guards: {
    resumes: ({ context }, params: { state: AlertStateName }) => context.resume === params.state,
    silent: ({ context, event }) => context.rule.nodata_seconds != null && silent(context, evaluation(context, event)),
    breaches: ({ context, event }) => breach(context, evaluation(context, event)),
    breachesAtOnce: ({ context, event }) => context.rule.for_seconds <= 0 && breach(context, evaluation(context, event)),
    breachHeld: ({ context, event }) => {
      const e = evaluation(context, event);
      return breach(context, e) && e.at - (context.activeAt ?? e.at) >= seconds(context.rule.for_seconds);
    },
    clears: ({ context, event }) => cleared(context, evaluation(context, event)),
    /** Cleared, and the keep-firing time (none, or since the first cleared evaluation) is over. */
    keepOver: ({ context, event }) => {
      const e = evaluation(context, event);
      return cleared(context, e) && e.at - (context.keepSince ?? e.at) >= seconds(context.rule.keep_firing_for_seconds);
    },
    watchesSilence: ({ context }) => context.rule.nodata_seconds != null,
  },
  actions: {
    /** Records the evaluation: its time, the latest reading, the actor's clock. */
    observe: assign(({ context, event }) => {
      const e = evaluation(context, event);
      const now = 'now' in event ? Math.max(context.now, event.now) : context.now;
      return { evaluatedAt: e.at, value: e.value, lastReadingAt: e.ts, now };
    }),
    startPending: assign({ since: ({ context }) => context.evaluatedAt, activeAt: ({ context }) => context.evaluatedAt, keepSince: null }),
    markTriggered: assign({ since: ({ context }) => context.evaluatedAt, triggeredAt: ({ context }) => context.evaluatedAt, keepSince: null }),
    startKeep: assign({ keepSince: ({ context }) => context.evaluatedAt }),
    stopKeep: assign({ keepSince: null, clearUntil: null }),
    markOk: assign({ since: ({ context }) => context.evaluatedAt, activeAt: null, keepSince: null, triggeredAt: null, pendingUntil: null, clearUntil: null }),
    markSilent: assign({ since: ({ context }) => context.evaluatedAt, activeAt: null, pendingUntil: null }),
    syncClock: assign({ now: ({ context, event }) => Math.max(context.now, (event as { now: number }).now) }),
    applyRule: assign({ rule: ({ event }) => (event as Extract<AlertMachineEvent, { type: 'RULE_UPDATED' }>).rule }),
    /**
     * Arms the one timer of the state: the deadline at which the latest reading is evaluated again
     * (`for`, `keep_firing_for`, nodata). Deadlines live in context, so a restored actor re-arms them.
     */
    arm: enqueueActions(({ context, enqueue }, params: { state: Armed }) => {
      const nodata = params.state === 'clearing' ? null : nodataAt(context);
      const pendingUntil = params.state === 'pending' ? (context.activeAt ?? context.now) + seconds(context.rule.for_seconds) : null;
      const clearUntil = params.state === 'clearing' ? (context.keepSince ?? context.now) + seconds(context.rule.keep_firing_for_seconds) : null;
      const due = [nodata, pendingUntil, clearUntil].filter((t): t is number => t !== null);
      const wakeAt = context.timers && due.length > 0 ? Math.min(...due) : null;
      if (context.wakeAt !== null) enqueue.cancel('deadline');
      if (params.state !== 'ok' || wakeAt !== context.wakeAt) enqueue.assign({ pendingUntil, clearUntil, wakeAt });
      if (wakeAt === null) return;
      const delay = Math.max(0, wakeAt - context.now);
      enqueue.raise({ type: 'DEADLINE', at: wakeAt, now: context.now + delay }, { id: 'deadline', delay });
    }),
    disarm: enqueueActions(({ context, enqueue }) => {
      if (context.wakeAt === null) return;
      enqueue.cancel('deadline');
      enqueue.assign({ wakeAt: null });
    }),
    // Provided by the runtime: write the alert event and its notifications (one transaction), or resolve it.
    fireAlert: (_, _intent: AlertIntent) => {},
    resolveAlert: (_, _intent: AlertIntent) => {},
    // Provided by the runtime: counts and logs each change of state.
    reportTransition: (_, _params: { to: AlertTransition }) => {},
  },
});

/** The intent of a transition that writes: the rule, the value evaluated, the evaluation's time. */
const intent = ({ context }: { context: AlertContext }): AlertIntent => ({ rule: context.rule, value: context.value ?? Number.NaN, at: context.evaluatedAt ?? context.now });
const report = (to: AlertTransition) => ({ type: 'reportTransition', params: { to } }) as const;
const arm = (state: Armed) => ({ type: 'arm', params: { state } }) as const;
const fire = ['markTriggered', { type: 'fireAlert', params: intent }] as const;
const resolve = ['markOk', { type: 'resolveAlert', params: intent }] as const;
const toNodata = { guard: 'silent', target: '#alert.nodata', actions: ['observe', 'markSilent', report('nodata')] } as const;

/** A breach from `ok` or `nodata`: pending (active_at = now), firing in the same evaluation when `for` is 0. */
const breachFromQuiet = [
  { guard: 'breachesAtOnce', target: '#alert.firing', actions: ['observe', 'startPending', ...fire] },
  { guard: 'breaches', target: '#alert.pending', actions: ['observe', 'startPending', report('pending')] },
] as const;
/**
 * An evaluation in `ok`. A rule without `nodata_seconds` takes no transition on a quiet value, so
 * the hot path allocates nothing (the snapshot stays the same object).
 */
const inOk = [toNodata, ...breachFromQuiet, { guard: 'watchesSilence', actions: ['observe', arm('ok')] }] as const;
const inNodata = [{ guard: 'silent', actions: 'observe' }, ...breachFromQuiet, { target: '#alert.ok', actions: ['observe', 'markOk', report('ok')] }] as const;
const inPending = [
  toNodata,
  { guard: 'breachHeld', target: '#alert.firing', actions: ['observe', ...fire] },
  { guard: 'breaches', actions: ['observe', arm('pending')] },
  { target: '#alert.ok', actions: ['observe', 'markOk', report('ok')] },
] as const;
const inActive = [
  { guard: 'keepOver', target: '#alert.ok', actions: ['observe', ...resolve] },
  { guard: 'clears', target: 'clearing', actions: ['observe', 'startKeep'] },
  { actions: 'observe' },
] as const;
const inClearing = [
  { guard: 'keepOver', target: '#alert.ok', actions: ['observe', ...resolve] },
  { guard: 'clears', actions: 'observe' },
  { target: 'active', actions: ['observe', 'stopKeep'] },
] as const;

/** The context of a new actor, or of one restored from what an earlier process persisted. */
function initialContext({ input }: { input: AlertInput }): AlertContext {
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

/**
 * One threshold rule, `ok → pending → firing → ok` plus `nodata`, with Prometheus's semantics: the
 * state changes only at an evaluation (time t, the latest reading at or before t). Breaching: `ok`
 * → `pending` (active_at = t), `pending` → `firing` once t − active_at ≥ for_seconds (the same
 * evaluation when 0). Not breaching: `pending` → `ok`. Firing, the value past the clear threshold:
 * resolve, unless t − keep_since < keep_firing_for_seconds (`firing.clearing`; keep_since is the first
 * such evaluation, a breaching one ends the countdown). `nodata_seconds` without a reading puts `ok`
 * or `pending` in `nodata`. With timers on (reactive), each deadline re-evaluates the latest reading
 * at the deadline. The machine writes nothing: `fireAlert`/`resolveAlert` are intents the runtime provides.
 */
export const alertMachine = alertSetup.createMachine({
  id: 'alert',
  initial: 'ok',
  context: initialContext,
  on: {
    RULE_UPDATED: { actions: 'applyRule' },
    RETIRE: { target: '.retired' },
  },
  states: {
    ok: {
      entry: arm('ok'),
      exit: 'disarm',
      on: {
        EVALUATE: inOk,
        DEADLINE: inOk,
        RULE_UPDATED: { actions: ['syncClock', 'applyRule', arm('ok')] },
        RESUME: [
          { guard: { type: 'resumes', params: { state: 'pending' } }, target: 'pending', actions: 'syncClock' },
          { guard: { type: 'resumes', params: { state: 'firing' } }, target: 'firing.active', actions: 'syncClock' },
          { guard: { type: 'resumes', params: { state: 'clearing' } }, target: 'firing.clearing', actions: 'syncClock' },
          { guard: { type: 'resumes', params: { state: 'nodata' } }, target: 'nodata', actions: 'syncClock' },
        ],
      },
    },
    pending: {
      entry: arm('pending'),
      exit: 'disarm',
      on: {
        EVALUATE: inPending,
        DEADLINE: inPending,
        RULE_UPDATED: { actions: ['syncClock', 'applyRule', arm('pending')] },
      },
    },
    firing: {
      initial: 'active',
      states: {
        active: {
          on: { EVALUATE: inActive, DEADLINE: inActive },
        },
        clearing: {
          entry: arm('clearing'),
          exit: 'disarm',
          on: {
            EVALUATE: inClearing,
            DEADLINE: inClearing,
            RULE_UPDATED: { actions: ['syncClock', 'applyRule', arm('clearing')] },
          },
        },
      },
    },
    nodata: {
      // Only a reading young enough at the evaluation leaves nodata; re-evaluating an old one does not.
      on: { EVALUATE: inNodata },
    },
    // The rule was disabled, deleted or moved: the actor is done (which stops it and its timer).
    retired: { type: 'final' },
  },
});
