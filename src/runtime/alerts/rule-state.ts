import type { AnyActorRef } from 'xstate';
import type { AlertContext, AlertStateName, PersistedAlert } from '../../actors/alert.ts';

/** The state name a snapshot value stands for. */
export function stateName(value: unknown): AlertStateName {
  if (value === 'pending' || value === 'nodata') return value;
  if (value && typeof value === 'object' && 'firing' in value) return (value as { firing: string }).firing === 'clearing' ? 'clearing' : 'firing';
  return 'ok';
}

/** Whether a persisted rule state holds an open alert (`firing`, or `clearing` while keep-firing runs). */
export function holdsAlert(persisted: PersistedAlert | null | undefined): boolean {
  return persisted?.state === 'firing' || persisted?.state === 'clearing';
}

/** What a rule actor persists: its state and its context less the rule (which the store holds). */
export function persistedAlert(actor: AnyActorRef): PersistedAlert {
  return persistedOf(actor.getSnapshot() as { value: unknown; context: AlertContext });
}

/** What a rule actor in `snapshot` persists (see `persistedAlert`). */
export function persistedOf(snapshot: { value: unknown; context: AlertContext }): PersistedAlert {
  const { rule: _rule, resume: _resume, timers: _timers, ...context } = snapshot.context;
  return { state: stateName(snapshot.value), context };
}
