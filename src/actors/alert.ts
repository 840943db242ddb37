import { assign, enqueueActions, setup } from 'xstate';
import {
  breachHeld,
  deadlines,
  initialContext,
  intentOf,
  isBreaching,
  isCleared,
  isSilent,
  isStillSilent,
  keepOver,
  marked,
  observed,
  type Armed,
} from './alert-evaluation.ts';
import type { AlertContext, AlertInput, AlertIntent, AlertMachineEvent, AlertStateName, AlertTransition } from './alert-types.ts';

export type { AlertContext, AlertInput, AlertIntent, AlertMachineEvent, AlertStateName, AlertTransition, PersistedAlert } from './alert-types.ts';

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
    silent: ({ context, event }) => isSilent(context, event),
    stillSilent: ({ context, event }) => isStillSilent(context, event),
    breaches: ({ context, event }) => isBreaching(context, event),
    breachesAtOnce: ({ context, event }) => context.rule.for_seconds <= 0 && isBreaching(context, event),
    breachHeld: ({ context, event }) => breachHeld(context, event),
    clears: ({ context, event }) => isCleared(context, event),
    /** Cleared, and the keep-firing time (none, or since the first cleared evaluation) is over. */
    keepOver: ({ context, event }) => keepOver(context, event),
    watchesSilence: ({ context }) => context.rule.nodata_seconds != null,
  },
  actions: {
    /** Records the evaluation: its time, the latest reading, the actor's clock. */
    observe: assign(({ context, event }) => observed(context, event)),
    // Each marking action records the evaluation too (as `observe`): one assign per transition.
    startPending: assign(({ context, event }) => marked(context, event, 'startPending')),
    startFiring: assign(({ context, event }) => marked(context, event, 'startFiring')),
    markTriggered: assign(({ context, event }) => marked(context, event, 'markTriggered')),
    startKeep: assign(({ context, event }) => marked(context, event, 'startKeep')),
    stopKeep: assign(({ context, event }) => marked(context, event, 'stopKeep')),
    markOk: assign(({ context, event }) => marked(context, event, 'markOk')),
    markSilent: assign(({ context, event }) => marked(context, event, 'markSilent')),
    syncClock: assign({ now: ({ context, event }) => Math.max(context.now, (event as { now: number }).now) }),
    applyRule: assign({ rule: ({ event }) => (event as Extract<AlertMachineEvent, { type: 'RULE_UPDATED' }>).rule }),
    /**
     * Arms the one timer of the state: the deadline at which the latest reading is evaluated again
     * (`for`, `keep_firing_for`, nodata). Deadlines live in context, so a restored actor re-arms them.
     */
    arm: enqueueActions(({ context, enqueue }, params: { state: Armed }) => {
      const { pendingUntil, clearUntil, wakeAt } = deadlines(context, params.state);
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
const intent = ({ context }: { context: AlertContext }): AlertIntent => intentOf(context);
const report = (to: AlertTransition) => ({ type: 'reportTransition', params: { to } }) as const;
const arm = (state: Armed) => ({ type: 'arm', params: { state } }) as const;
const fireAlert = { type: 'fireAlert', params: intent } as const;
const resolve = ['markOk', { type: 'resolveAlert', params: intent }] as const;
const toNodata = { guard: 'silent', target: '#alert.nodata', actions: ['markSilent', report('nodata')] } as const;

/** A breach from `ok` or `nodata`: pending (active_at = now), firing in the same evaluation when `for` is 0. */
const breachFromQuiet = [
  { guard: 'breachesAtOnce', target: '#alert.firing', actions: ['startFiring', fireAlert] },
  { guard: 'breaches', target: '#alert.pending', actions: ['startPending', report('pending')] },
] as const;
/**
 * An evaluation in `ok`. A rule without `nodata_seconds` takes no transition on a quiet value, so
 * the hot path allocates nothing (the snapshot stays the same object).
 */
const inOk = [toNodata, ...breachFromQuiet, { guard: 'watchesSilence', actions: ['observe', arm('ok')] }] as const;
const inNodata = [{ guard: 'stillSilent', actions: 'observe' }, ...breachFromQuiet, { target: '#alert.ok', actions: ['markOk', report('ok')] }] as const;
const inPending = [
  toNodata,
  { guard: 'breachHeld', target: '#alert.firing', actions: ['markTriggered', fireAlert] },
  { guard: 'breaches', actions: ['observe', arm('pending')] },
  { target: '#alert.ok', actions: ['markOk', report('ok')] },
] as const;
const inActive = [
  { guard: 'keepOver', target: '#alert.ok', actions: resolve },
  { guard: 'clears', target: 'clearing', actions: 'startKeep' },
  { actions: 'observe' },
] as const;
const inClearing = [
  { guard: 'keepOver', target: '#alert.ok', actions: resolve },
  { guard: 'clears', actions: 'observe' },
  { target: 'active', actions: 'stopKeep' },
] as const;

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
  context: ({ input }) => initialContext(input),
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
