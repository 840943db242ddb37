import { assign, cancel, enqueueActions, setup } from 'xstate';
import type { Rule } from '../domain/rule.ts';
import { breaches, clears } from '../domain/threshold.ts';

/** The states a rule actor can resume in after a restart. */
export type AlertStateName = 'ok' | 'pending' | 'firing' | 'clearing' | 'nodata';

/**
 * Everything the machine knows. Times are epoch milliseconds on the actor's clock (the time each
 * event was received, or the deadline a timer was armed for), never the readings' own `ts`.
 */
export interface AlertContext {
  rule: Rule;
  /** The time of the last event handled. */
  now: number;
  /** The last value evaluated (a reading, or the latest stored reading on an interval). */
  value: number | null;
  /** When the last reading arrived (interval re-evaluations of a stored reading do not count). */
  lastReadingAt: number | null;
  /** When the current state began (pending since, firing since, clearing since). */
  since: number | null;
  /** When a pending breach fires: `since + for_seconds`. */
  pendingUntil: number | null;
  /** When a clearing (keep-firing) alert resolves: `since + keep_firing_for_seconds`. */
  clearUntil: number | null;
  /** When the current state's timer is due; delays are computed from it, so a restore re-arms them. */
  wakeAt: number | null;
  /** When the open alert fired. */
  triggeredAt: number | null;
  /** The state to enter on RESUME: the state persisted at the last stop. */
  resume: AlertStateName;
}

/** What the state persisted at a stop carries into the next process. */
export type PersistedAlert = { state: AlertStateName; context: Omit<AlertContext, 'rule' | 'resume'> };

/** A rule actor is created from its rule, the actor's clock now and, after a restart, what was persisted. */
export interface AlertInput {
  rule: Rule;
  now: number;
  restored?: PersistedAlert;
}

/** What a transition that writes asks the runtime to write: the rule fired or resolved with `value` at `at`. */
export interface AlertIntent {
  rule: Rule;
  value: number;
  at: number;
}

/**
 * `RESUME`: enter the restored state (sent only when it is not `ok`). `READING`: a new reading arrived (counts as data). `EVALUATE`: the latest stored value is
 * evaluated again on an interval (not new data). `at` is the actor's clock when sent.
 */
export type AlertMachineEvent =
  | { type: 'RESUME'; at: number }
  | { type: 'READING'; value: number; at: number }
  | { type: 'EVALUATE'; value: number; at: number }
  | { type: 'RULE_UPDATED'; rule: Rule; at: number }
  | { type: 'NODATA_CHECK' };

/** The transitions a rule reports (metrics, logs); firing and resolving are reported by their intents. */
export type AlertTransition = 'pending' | 'ok' | 'nodata';

type ValueEvent = Extract<AlertMachineEvent, { type: 'READING' | 'EVALUATE' }>;

const seconds = (s: number | null | undefined): number => (s ?? 0) * 1_000;
/** The deadline of the nodata watch, when the rule has one. */
const nodataAt = (c: AlertContext): number | null =>
  c.rule.nodata_seconds == null ? null : (c.lastReadingAt ?? c.since ?? c.now) + seconds(c.rule.nodata_seconds);
const valueOf = (event: AlertMachineEvent): number => (event as ValueEvent).value;

/**
 * One threshold rule: `ok → pending → firing → ok`, plus `nodata`. A breach starts `pending` and
 * fires once it has held `for_seconds` (at once when 0); a firing alert resolves when a value is past
 * the clear threshold, after `keep_firing_for_seconds` in `firing.clearing` when set. Deadlines live in
 * context, so an actor restored with `restored` re-arms them on RESUME with the time left. The machine
 * writes nothing: `fireAlert` and `resolveAlert` are intents the runtime provides and writes.
 */
const alertSetup = setup({
  types: {
    context: {} as AlertContext,
    input: {} as AlertInput,
    events: {} as AlertMachineEvent,
  },
  guards: {
    resumes: ({ context }, params: { state: AlertStateName }) => context.resume === params.state,
    breaches: ({ context, event }) => breaches(context.rule, valueOf(event)),
    breachesAtOnce: ({ context, event }) => context.rule.for_seconds <= 0 && breaches(context.rule, valueOf(event)),
    clears: ({ context, event }) => clears(context.rule, valueOf(event)),
    clearsAtOnce: ({ context, event }) => context.rule.keep_firing_for_seconds <= 0 && clears(context.rule, valueOf(event)),
    breachHeld: ({ context }) => context.pendingUntil !== null && context.pendingUntil <= Math.max(context.now, context.wakeAt ?? 0),
    watchesSilence: ({ context }) => context.rule.nodata_seconds != null,
    silentTooLong: ({ context }) => {
      const due = nodataAt(context);
      return due !== null && due <= Math.max(context.now, context.wakeAt ?? 0);
    },
  },
  delays: {
    pendingDelay: ({ context }) => Math.max(0, (context.wakeAt ?? context.now) - context.now),
    keepFiringDelay: ({ context }) => Math.max(0, (context.wakeAt ?? context.now) - context.now),
  },
  actions: {
    syncClock: assign({ now: ({ event }) => (event as { at: number }).at }),
    /** A reading is data: its value and arrival count; an interval evaluation only updates the value. */
    observe: assign(({ context, event }) => {
      const { value, at } = event as ValueEvent;
      return event.type === 'READING' ? { value, now: at, lastReadingAt: at } : { value, now: at };
    }),
    /** A timer fired: the clock moves to its deadline. */
    wake: assign({ now: ({ context }) => Math.max(context.now, context.wakeAt ?? context.now) }),
    startPending: assign({
      since: ({ context }) => context.now,
      pendingUntil: ({ context }) => context.now + seconds(context.rule.for_seconds),
    }),
    armPending: assign({
      wakeAt: ({ context }) => {
        const nodata = nodataAt(context);
        return nodata === null ? context.pendingUntil : Math.min(nodata, context.pendingUntil ?? nodata);
      },
    }),
    reschedulePending: assign({
      pendingUntil: ({ context }) => (context.since ?? context.now) + seconds(context.rule.for_seconds),
    }),
    clearPending: assign({ since: ({ context }) => context.now, pendingUntil: null, wakeAt: null }),
    markTriggered: assign({
      since: ({ context }) => context.now,
      triggeredAt: ({ context }) => context.now,
      pendingUntil: null,
      wakeAt: null,
    }),
    startClearing: assign({
      since: ({ context }) => context.now,
      clearUntil: ({ context }) => context.now + seconds(context.rule.keep_firing_for_seconds),
    }),
    rescheduleClearing: assign({
      clearUntil: ({ context }) => (context.since ?? context.now) + seconds(context.rule.keep_firing_for_seconds),
    }),
    armClearing: assign({ wakeAt: ({ context }) => context.clearUntil }),
    stopClearing: assign({ since: ({ context }) => context.triggeredAt, clearUntil: null, wakeAt: null }),
    markResolved: assign({ since: ({ context }) => context.now, triggeredAt: null, clearUntil: null, wakeAt: null }),
    markSilent: assign({ since: ({ context }) => context.now, pendingUntil: null, wakeAt: null }),
    applyRule: assign({
      rule: ({ event }) => (event as Extract<AlertMachineEvent, { type: 'RULE_UPDATED' }>).rule,
      now: ({ event }) => (event as { at: number }).at,
    }),
    /** Watches for silence only when the rule asks for it, so a rule without `nodata_seconds` holds no timer. */
    armNodataCheck: enqueueActions(({ context, enqueue }) => {
      const due = nodataAt(context);
      if (due === null) return;
      enqueue.assign({ wakeAt: due });
      enqueue.raise({ type: 'NODATA_CHECK' }, { id: 'nodataCheck', delay: Math.max(0, due - context.now) });
    }),
    disarmNodataCheck: cancel('nodataCheck'),
    // Provided by the runtime: write the alert event and its notifications (one transaction), or resolve it.
    fireAlert: (_, _intent: AlertIntent) => {},
    resolveAlert: (_, _intent: AlertIntent) => {},
    // Provided by the runtime: counts and logs each change of state.
    reportTransition: (_, _params: { to: AlertTransition }) => {},
  },
});

/** The intent of a transition that writes: the rule, its last value, the actor's time. */
const intent = ({ context }: { context: AlertContext }): AlertIntent => ({ rule: context.rule, value: context.value ?? Number.NaN, at: context.now });
const report = (to: AlertTransition) => ({ type: 'reportTransition', params: { to } }) as const;
const fire = ['markTriggered', { type: 'fireAlert', params: intent }] as const;
const resolve = ['markResolved', { type: 'resolveAlert', params: intent }] as const;
const silent = { guard: 'silentTooLong', target: '#alert.nodata', actions: ['wake', 'markSilent', report('nodata')] } as const;

const breachFromQuiet = [
  { guard: 'breachesAtOnce', target: '#alert.firing', actions: ['observe', ...fire] },
  { guard: 'breaches', target: '#alert.pending', actions: ['observe', 'startPending', report('pending')] },
] as const;
/**
 * A value in `ok`: fire at once, start pending, or record it when the rule watches for silence.
 * A rule without `nodata_seconds` takes no transition on a quiet value, so the hot path allocates
 * nothing (the snapshot stays the same object); `value` then shows the last value that mattered.
 */
const inOk = [...breachFromQuiet, { guard: 'watchesSilence', actions: 'observe' }] as const;
/** A reading in `nodata`: as in `ok`, but a quiet value returns to `ok`. */
const inNodata = [...breachFromQuiet, { target: '#alert.ok', actions: ['observe', report('ok')] }] as const;
const inPending = [
  { guard: 'breaches', actions: 'observe' },
  { target: '#alert.ok', actions: ['observe', 'clearPending', report('ok')] },
] as const;
const inFiring = [
  { guard: 'clearsAtOnce', target: '#alert.ok', actions: ['observe', ...resolve] },
  { guard: 'clears', target: 'clearing', actions: ['observe', 'startClearing'] },
  { actions: 'observe' },
] as const;
const inClearing = [{ guard: 'clears', actions: 'observe' }, { target: 'active', actions: ['observe', 'stopClearing'] }] as const;

/**
 * One threshold rule: `ok → pending → firing → ok`, plus `nodata`. A breach starts `pending` and
 * fires once it has held `for_seconds` (at once when 0); a firing alert resolves when a value is past
 * the clear threshold, after `keep_firing_for_seconds` in `firing.clearing` when set; `nodata_seconds`
 * without a reading in `ok` or `pending` goes to `nodata`. Deadlines live in context, so an actor
 * created with `restored` re-arms them on RESUME with the time left. The machine writes nothing:
 * `fireAlert` and `resolveAlert` are intents the runtime provides and writes.
 */
export const alertMachine = alertSetup.createMachine({
  id: 'alert',
  initial: 'ok',
  context: ({ input }) => ({
    rule: input.rule,
    value: null,
    lastReadingAt: null,
    since: input.now,
    pendingUntil: null,
    clearUntil: null,
    wakeAt: null,
    triggeredAt: null,
    ...input.restored?.context,
    now: input.now,
    resume: input.restored?.state ?? 'ok',
  }),
  on: {
    RULE_UPDATED: { actions: 'applyRule' },
  },
  states: {
    ok: {
      entry: 'armNodataCheck',
      exit: 'disarmNodataCheck',
      on: {
        READING: inOk,
        EVALUATE: inOk,
        NODATA_CHECK: [silent, { target: 'ok', reenter: true, actions: 'wake' }],
        RULE_UPDATED: { target: 'ok', reenter: true, actions: 'applyRule' },
        RESUME: [
          { guard: { type: 'resumes', params: { state: 'pending' } }, target: 'pending', actions: 'syncClock' },
          { guard: { type: 'resumes', params: { state: 'firing' } }, target: 'firing.active', actions: 'syncClock' },
          { guard: { type: 'resumes', params: { state: 'clearing' } }, target: 'firing.clearing', actions: 'syncClock' },
          { guard: { type: 'resumes', params: { state: 'nodata' } }, target: 'nodata', actions: 'syncClock' },
        ],
      },
    },
    pending: {
      entry: 'armPending',
      after: {
        pendingDelay: [
          silent,
          { guard: 'breachHeld', target: 'firing', actions: ['wake', ...fire] },
          { target: 'pending', reenter: true, actions: 'wake' },
        ],
      },
      on: {
        READING: inPending,
        EVALUATE: inPending,
        RULE_UPDATED: { target: 'pending', reenter: true, actions: ['applyRule', 'reschedulePending'] },
      },
    },
    firing: {
      initial: 'active',
      states: {
        active: {
          on: { READING: inFiring, EVALUATE: inFiring },
        },
        clearing: {
          entry: 'armClearing',
          after: {
            keepFiringDelay: { target: '#alert.ok', actions: ['wake', ...resolve] },
          },
          on: {
            READING: inClearing,
            EVALUATE: inClearing,
            RULE_UPDATED: { target: 'clearing', reenter: true, actions: ['applyRule', 'rescheduleClearing'] },
          },
        },
      },
    },
    nodata: {
      // An interval re-evaluation of the last stored value is not data: only a READING leaves nodata.
      on: { READING: inNodata },
    },
  },
});
