import type { ActorScope, AnyActorRef, SnapshotFrom } from 'xstate';
import type { AlertMachineEvent, alertMachine } from '../../actors/alert.ts';
import { createDirectStep, type DirectTransition } from './direct-step.ts';

/** A rule machine's snapshot, as XState's transitions make it. */
export type AlertMachineSnapshot = SnapshotFrom<typeof alertMachine>;

/**
 * The actions a transition may take without an actor: the runtime's provided effects, which write,
 * count or log and arm nothing. Any other action that reaches XState's executor (a timer's delayed
 * `raise` or its `cancel`) needs an actor to run it.
 */
const WITHOUT_ACTOR: ReadonlySet<string> = new Set(['fireAlert', 'resolveAlert', 'reportTransition']);

/** An action XState hands to the executor of a transition: `exec(info, params)` runs it. */
interface Executable {
  type: string;
  info: unknown;
  params: unknown;
  exec?: ((info: unknown, params: unknown) => void) | undefined;
}

/**
 * One transition of the alert machine computed by XState itself (`machine.transition`, the machine's
 * actor logic), without an actor: the snapshot it leads to, its provided effects run once it is
 * known. Undefined, with nothing run, when the transition needs an actor (an action other than the
 * provided effects: a timer armed or cancelled) or XState threw (a guard that throws): the caller
 * then sends the event to an actor created from `snapshot`, which does it all as usual.
 *
 * An actor costs ~30 µs to create and ~10 µs of mailbox, observers and system per event more than
 * the transition itself; a rule with nothing to time never needs one to fire and resolve.
 */
export function createHeldStep(machine: typeof alertMachine, host: AnyActorRef) {
  let collected: Executable[] = [];
  // The executor only collects: no effect runs before the whole transition is known to need no actor.
  const scope = {
    self: host,
    id: '',
    sessionId: '',
    logger: () => {},
    defer: () => {},
    system: host.system,
    stopChild: () => {},
    emit: () => {},
    actionExecutor: (action: Executable) => void collected.push(action),
  } as unknown as ActorScope<AlertMachineSnapshot, AlertMachineEvent>;
  // The common fire, resolve and reading while firing, without XState's transition (see direct-step.ts).
  const direct = createDirectStep(machine, host);

  return (snapshot: AlertMachineSnapshot, event: AlertMachineEvent): AlertMachineSnapshot | undefined => {
    collected.length = 0;
    let next: AlertMachineSnapshot;
    let taken: DirectTransition | undefined;
    try {
      taken = direct(snapshot, event);
    } catch {
      return undefined;
    }
    // As below: the effect runs once the transition is known, and what it throws is the caller's.
    if (taken) {
      taken.effect?.();
      return taken.next;
    }
    try {
      next = machine.transition(snapshot, event, scope);
    } catch {
      return undefined;
    }
    // Only `RETIRE` ends the machine, and only an actor is retired: anything else is left to one.
    if (next.status !== 'active') return undefined;
    if (collected.length === 0) return next;
    for (const action of collected) if (!WITHOUT_ACTOR.has(action.type)) return undefined;
    // Taken out first: an effect that reaches another rule's transition gets an empty list of its own.
    const actions = collected;
    collected = [];
    for (const action of actions) action.exec?.(action.info, action.params);
    return next;
  };
}

/** A held transition (see `createHeldStep`). */
export type HeldStep = ReturnType<typeof createHeldStep>;
