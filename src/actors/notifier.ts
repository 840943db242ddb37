import { assign, fromPromise, raise, setup } from 'xstate';
import type { Notification } from '../domain/notification.ts';
import { clock } from './clock.ts';
import type { SettledEvent } from './drain.ts';

/** What delivering one outbox row came to; `lane` is the channel that actually carried it. */
export interface DeliveryOutcome {
  id: string;
  lane: string;
  kind: 'sent' | 'deduplicated' | 'retrying' | 'failed' | 'error';
  error?: string;
  /** When a `retrying` row is due again (ISO). */
  nextAttemptAt?: string;
  /** A failed row that the fallback channel carried instead. */
  fellBack?: boolean;
}

/** One channel's delivery lane: its own failures and backoff, independent of the others. */
export interface Lane {
  status: 'ready' | 'backingOff';
  inFlight: number;
  consecutiveFailures: number;
  lastError: string | null;
  /** While backing off: when its failed row is due again (ISO). */
  retryAt: string | null;
}

/** What the notifier is created with; `restored` carries counts over from a persisted snapshot. */
export interface NotifierInput {
  pollMs: number;
  restored?: Partial<NotifierContext>;
}

export interface NotifierContext {
  pollMs: number;
  lanes: Record<string, Lane>;
  sent: number;
  retried: number;
  failed: number;
  deduplicated: number;
  fellBack: number;
  lastClaimedAt: string | null;
}

export type NotifierEvent =
  | { type: 'START' }
  | { type: 'STOP' }
  | { type: 'TICK' }
  /** Rows were just written to the outbox: claim now rather than at the next poll. */
  | { type: 'WAKE' }
  /** Rows written already claimed for this notifier: delivered with no claim, after any rows of a claim in flight. */
  | { type: 'HANDED'; claimed: ClaimedRow[] }
  | { type: 'DELIVERED'; outcome: DeliveryOutcome }
  /** The outcomes of a batch of deliveries, applied at once. */
  | { type: 'BATCH_DELIVERED'; outcomes: DeliveryOutcome[] }
  /** Repeats of a remembered send that their writer found and did not write: never in flight, only counted. */
  | { type: 'REPEATED'; count: number };

/** A claimed row and the lane the runtime routes it to. */
export interface ClaimedRow {
  row: Notification;
  lane: string;
}

const emptyLane = (): Lane => ({ status: 'ready', inFlight: 0, consecutiveFailures: 0, lastError: null, retryAt: null });
const totalInFlight = (lanes: Record<string, Lane>): number => Object.values(lanes).reduce((n, lane) => n + lane.inFlight, 0);

/** The lane after one outcome: a retry backs it off, a success resets it. */
function laneAfter(lane: Lane, outcome: DeliveryOutcome): Lane {
  const inFlight = Math.max(0, lane.inFlight - 1);
  switch (outcome.kind) {
    case 'sent':
      return { status: 'ready', inFlight, consecutiveFailures: 0, lastError: null, retryAt: null };
    case 'retrying':
      return { status: 'backingOff', inFlight, consecutiveFailures: lane.consecutiveFailures + 1, lastError: outcome.error ?? null, retryAt: outcome.nextAttemptAt ?? null };
    case 'failed':
      return { ...lane, inFlight, consecutiveFailures: lane.consecutiveFailures + 1, lastError: outcome.error ?? null };
    default:
      return { ...lane, inFlight };
  }
}

/** The counters and lanes after a batch of outcomes, in order: one new context for the whole batch. */
function applyOutcomes(context: NotifierContext, outcomes: DeliveryOutcome[]): Partial<NotifierContext> {
  const lanes = { ...context.lanes };
  let { sent, retried, failed, deduplicated, fellBack } = context;
  for (const outcome of outcomes) {
    lanes[outcome.lane] = laneAfter(lanes[outcome.lane] ?? emptyLane(), outcome);
    if (outcome.kind === 'sent') sent++;
    else if (outcome.kind === 'retrying') retried++;
    else if (outcome.kind === 'failed') failed++;
    else if (outcome.kind === 'deduplicated') deduplicated++;
    if (outcome.fellBack) fellBack++;
  }
  return { lanes, sent, retried, failed, deduplicated, fellBack };
}

/** Rows handed by their writer, already claimed: their deliveries start as they come. */
const deliverHanded = {
  actions: [
    { type: 'startDeliveries', params: ({ event }: { event: { claimed: ClaimedRow[] } }) => ({ claimed: event.claimed }) },
    { type: 'deliver', params: ({ event }: { event: { claimed: ClaimedRow[] } }) => ({ claimed: event.claimed }) },
  ],
} as const;

/**
 * The notifier: polls the outbox every `pollMs` (and on WAKE), claims the due rows and starts their
 * delivery as one batch without waiting for it, so a slow batch never holds the next claim up.
 * The outcomes come back as BATCH_DELIVERED (or one DELIVERED each) and update the channels' lanes; retries are scheduled in the
 * outbox itself (`next_attempt_at`), so they survive a restart. A stop lets deliveries in flight finish.
 */
export const notifierMachine = setup({
  types: {
    context: {} as NotifierContext & { recheck: boolean; handed: ClaimedRow[] },
    input: {} as NotifierInput,
    events: {} as NotifierEvent | SettledEvent,
  },
  actors: {
    clock,
    // Provided by the runtime: claims the due rows and routes each to its lane.
    claim: fromPromise<ClaimedRow[]>(async () => {
      throw new Error('notifier: the claim actor was not provided');
    }),
  },
  actions: {
    startDeliveries: assign({
      lanes: ({ context }, params: { claimed: ClaimedRow[] }) => {
        const lanes = { ...context.lanes };
        for (const { lane } of params.claimed) {
          const current = lanes[lane] ?? emptyLane();
          lanes[lane] = { ...current, inFlight: current.inFlight + 1 };
        }
        return lanes;
      },
      lastClaimedAt: ({ context }, params: { claimed: ClaimedRow[] }) => (params.claimed.length > 0 ? new Date().toISOString() : context.lastClaimedAt),
    }),
    applyOutcome: assign(({ context }, outcome: DeliveryOutcome) => applyOutcomes(context, [outcome])),
    applyOutcomes: assign(({ context }, outcomes: DeliveryOutcome[]) => applyOutcomes(context, outcomes)),
    countRepeats: assign({ deduplicated: ({ context }, count: number) => context.deduplicated + count }),
    holdHanded: assign({ handed: ({ context }, params: { claimed: ClaimedRow[] }) => [...context.handed, ...params.claimed] }),
    clearHanded: assign({ handed: [] }),
    requestRecheck: assign({ recheck: true }),
    clearRecheck: assign({ recheck: false }),
    settle: raise({ type: 'SETTLED' }),
    // Provided by the runtime: sends the rows through their channels and reports back with BATCH_DELIVERED.
    deliver: (_, _params: { claimed: ClaimedRow[] }) => {},
    reportClaimFailed: (_, _params: { error: unknown }) => {},
  },
  guards: {
    recheckRequested: ({ context }) => context.recheck,
    drained: ({ context }) => totalInFlight(context.lanes) === 0,
  },
}).createMachine({
  id: 'notifier',
  initial: 'idle',
  context: ({ input }) => ({
    pollMs: input.pollMs,
    lanes: Object.fromEntries(
      Object.entries(input.restored?.lanes ?? {}).map(([name, lane]) => [name, { ...lane, inFlight: 0 }]),
    ),
    sent: input.restored?.sent ?? 0,
    retried: input.restored?.retried ?? 0,
    failed: input.restored?.failed ?? 0,
    deduplicated: input.restored?.deduplicated ?? 0,
    fellBack: input.restored?.fellBack ?? 0,
    lastClaimedAt: input.restored?.lastClaimedAt ?? null,
    recheck: false,
    handed: [],
  }),
  states: {
    idle: {
      on: { START: 'running', STOP: 'stopped' },
    },
    running: {
      invoke: { src: 'clock', input: ({ context }) => ({ periodMs: context.pollMs }) },
      on: {
        DELIVERED: { actions: { type: 'applyOutcome', params: ({ event }) => event.outcome } },
        BATCH_DELIVERED: { actions: { type: 'applyOutcomes', params: ({ event }) => event.outcomes } },
        REPEATED: { actions: { type: 'countRepeats', params: ({ event }) => event.count } },
        STOP: 'draining',
      },
      // A restart claims at once, so rows left pending by the last run go out without waiting a poll.
      initial: 'claiming',
      states: {
        waiting: {
          on: {
            TICK: 'claiming',
            WAKE: 'claiming',
            HANDED: deliverHanded,
          },
        },
        claiming: {
          entry: 'clearRecheck',
          invoke: {
            src: 'claim',
            // Rows handed meanwhile go after the claimed ones: a rule's rows claimed before they were written go out first.
            onDone: {
              actions: [
                { type: 'startDeliveries', params: ({ event, context }) => ({ claimed: [...event.output, ...context.handed] }) },
                { type: 'deliver', params: ({ event, context }) => ({ claimed: [...event.output, ...context.handed] }) },
                'clearHanded',
                'settle',
              ],
            },
            onError: {
              actions: [
                { type: 'reportClaimFailed', params: ({ event }) => ({ error: event.error }) },
                { type: 'startDeliveries', params: ({ context }) => ({ claimed: context.handed }) },
                { type: 'deliver', params: ({ context }) => ({ claimed: context.handed }) },
                'clearHanded',
                'settle',
              ],
            },
          },
          // Rows written while a claim runs may have missed it: claim once more right after.
          on: { WAKE: { actions: 'requestRecheck' }, HANDED: { actions: { type: 'holdHanded', params: ({ event }) => ({ claimed: event.claimed }) } } },
          initial: 'inFlight',
          states: {
            inFlight: {
              on: {
                STOP: 'stopping',
                SETTLED: [
                  { guard: 'recheckRequested', target: '#notifier.running.claiming', reenter: true },
                  { target: '#notifier.running.waiting' },
                ],
              },
            },
            // A stop lets the claim finish, so the rows it claimed are delivered rather than left `sending`;
            // a second STOP is absorbed here, since `running`'s own STOP would cancel the claim.
            stopping: { on: { STOP: {}, SETTLED: '#notifier.draining' } },
          },
        },
      },
    },
    draining: {
      always: { guard: 'drained', target: 'stopped' },
      on: {
        DELIVERED: { actions: { type: 'applyOutcome', params: ({ event }) => event.outcome } },
        BATCH_DELIVERED: { actions: { type: 'applyOutcomes', params: ({ event }) => event.outcomes } },
        REPEATED: { actions: { type: 'countRepeats', params: ({ event }) => event.count } },
        // Rows written claimed just before the stop are in flight like the rest: delivered, and waited for.
        HANDED: deliverHanded,
      },
    },
    stopped: { type: 'final' },
  },
});
