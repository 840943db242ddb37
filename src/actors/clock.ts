import { map } from 'rxjs';
import { fromEventObservable } from 'xstate';
import { ticks } from '../streams/ticks.ts';

/** The long-lived machines' drift-free clock, invoked on `running`: a TICK (with its tick) every `periodMs`. */
export const clock = fromEventObservable(({ input }: { input: { periodMs: number } }) =>
  ticks(input.periodMs).pipe(map((tick) => ({ type: 'TICK' as const, tick }))),
);
