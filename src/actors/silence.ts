import { assign, setup } from 'xstate';
import type { Silence } from '../domain/silence.ts';

/**
 * The longest single timer: Node fires a timer longer than 2^31−1 ms (24.8 days) after 1 ms, so a
 * longer wait is taken in chunks of at most this.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/** What a silence actor is created with: its stored row and the instant (ms) it is armed at. */
export interface SilenceActorInput {
  silence: Silence;
  now: number;
  /** The longest single timer (default MAX_TIMER_MS); smaller in tests, to exercise the chunking. */
  maxTimerMs?: number;
}

/** `EXPIRE`: ended early at `at` (ISO), as `DELETE /silences/:id` does. */
export type SilenceEvent = { type: 'EXPIRE'; at: string };

/** The row, its times in ms, and `since`: the instant the current wait began. */
export interface SilenceContext {
  silence: Silence;
  startsMs: number;
  endsMs: number;
  since: number;
  maxTimerMs: number;
}

/** The next wait toward `targetMs`, at most one timer long (0 when it is due). */
const waitToward = (context: SilenceContext, targetMs: number): number => Math.max(0, Math.min(targetMs - context.since, context.maxTimerMs));

/**
 * One silence: `pending` until `starts_at`, `active` until `ends_at`, then `expired` (final); `EXPIRE`
 * ends it at once. Its timers come from its own context (times and `since`), so an actor created
 * again after a restart arms them anew from the stored row. Waits longer than one timer are taken
 * in chunks, each re-entering the state with `since` moved on.
 */
export const silenceMachine = setup({
  types: {
    context: {} as SilenceContext,
    input: {} as SilenceActorInput,
    events: {} as SilenceEvent,
  },
  delays: {
    untilStart: ({ context }) => waitToward(context, context.startsMs),
    untilEnd: ({ context }) => waitToward(context, context.endsMs),
  },
  guards: {
    hasEnded: ({ context }) => context.since >= context.endsMs,
    hasStarted: ({ context }) => context.since >= context.startsMs,
  },
  actions: {
    waitedTowardStart: assign({ since: ({ context }) => context.since + waitToward(context, context.startsMs) }),
    waitedTowardEnd: assign({ since: ({ context }) => context.since + waitToward(context, context.endsMs) }),
    endEarly: assign(({ context }, params: { at: string }) => {
      const atMs = Date.parse(params.at);
      if (!(atMs < context.endsMs)) return {};
      return { endsMs: atMs, silence: { ...context.silence, ends_at: new Date(atMs).toISOString() } };
    }),
  },
}).createMachine({
  id: 'silence',
  context: ({ input }) => ({
    silence: input.silence,
    startsMs: Date.parse(input.silence.starts_at),
    endsMs: Date.parse(input.silence.ends_at),
    since: input.now,
    maxTimerMs: input.maxTimerMs ?? MAX_TIMER_MS,
  }),
  initial: 'pending',
  on: {
    EXPIRE: { target: '.expired', actions: { type: 'endEarly', params: ({ event }) => ({ at: event.at }) } },
  },
  states: {
    pending: {
      always: [
        { guard: 'hasEnded', target: 'expired' },
        { guard: 'hasStarted', target: 'active' },
      ],
      after: { untilStart: { target: 'pending', reenter: true, actions: 'waitedTowardStart' } },
    },
    active: {
      always: { guard: 'hasEnded', target: 'expired' },
      after: { untilEnd: { target: 'active', reenter: true, actions: 'waitedTowardEnd' } },
    },
    expired: { type: 'final' },
  },
});
