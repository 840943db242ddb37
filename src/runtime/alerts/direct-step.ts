import { intentOf, isBreaching, isCleared, keepOver, marked, observed } from '../../actors/alert-evaluation.ts';
import type { SnapshotFrom } from 'xstate';
import type { AlertContext, AlertIntent, AlertMachineEvent, alertMachine } from '../../actors/alert.ts';

type AlertMachineSnapshot = SnapshotFrom<typeof alertMachine>;

/** A transition computed by `createDirectStep`: the snapshot it leads to and the provided effect it runs, if any. */
export interface DirectTransition {
  next: AlertMachineSnapshot;
  effect?: () => void;
}

type Effect = (info: unknown, intent: AlertIntent) => void;

/**
 * The transitions a rule with nothing to time takes on a reading, computed by hand from the
 * machine's own guards and context updates (alert-evaluation.ts) instead of by XState's
 * `machine.transition`: `ok` → `firing` on a breach (startFiring, fireAlert), `firing` → `ok` once
 * cleared (markOk, resolveAlert), and `firing` recording a reading that does not clear it (observe).
 * Only for an EVALUATE to a rule without `for`, `keep_firing_for` or a nodata watch and no deadline
 * armed, in `ok` or `firing.active`; anything else is undefined (the caller asks XState). The new
 * snapshot is the target state's, built once by XState (`resolveState`), with the new context; a
 * property test (held-step.property.test.ts) holds the outcome equal to a bare actor's.
 *
 * Why: XState's transition builds two snapshots, their state value and tag set (~15 KB and ~25 µs
 * per fire or resolve); this builds one object and the context.
 */
export function createDirectStep(machine: typeof alertMachine, host: { system: unknown }) {
  const actions = machine.implementations.actions as Record<string, unknown>;
  const fire = actions.fireAlert;
  const resolve = actions.resolveAlert;
  const ready = typeof fire === 'function' && typeof resolve === 'function';
  let firingShape: AlertMachineSnapshot | undefined;
  let okShape: AlertMachineSnapshot | undefined;

  /** `from` in the state of `shape` with `context`, as XState's clone of a snapshot makes it. */
  const moved = (shape: AlertMachineSnapshot, from: AlertMachineSnapshot, context: AlertContext): AlertMachineSnapshot =>
    ({ ...shape, machine: from.machine, context, children: from.children, historyValue: from.historyValue }) as AlertMachineSnapshot;

  const effectOf = (run: unknown, context: AlertContext, event: AlertMachineEvent) => () =>
    (run as Effect)({ context, event, self: host, system: host.system }, intentOf(context));

  return (from: AlertMachineSnapshot, event: AlertMachineEvent): DirectTransition | undefined => {
    if (!ready || event.type !== 'EVALUATE' || from.status !== 'active') return undefined;
    const context = from.context;
    const { rule } = context;
    if (rule.nodata_seconds != null || !(rule.for_seconds <= 0) || (rule.keep_firing_for_seconds ?? 0) > 0 || context.wakeAt !== null) return undefined;
    if (from.value === 'ok') {
      // `ok`'s EVALUATE: no silence without a watch; a breach fires at once (`for` is 0); else nothing.
      if (!isBreaching(context, event)) return { next: from };
      const fired = { ...context, ...marked(context, event, 'startFiring') };
      firingShape ??= machine.resolveState({ value: { firing: 'active' }, context: fired });
      return { next: moved(firingShape, from, fired), effect: effectOf(fire, fired, event) };
    }
    if (typeof from.value !== 'object' || (from.value as { firing?: string }).firing !== 'active') return undefined;
    if (keepOver(context, event)) {
      // Entering `ok` arms nothing here: no watch, no deadline, none armed before.
      const resolved = { ...context, ...marked(context, event, 'markOk') };
      okShape ??= machine.resolveState({ value: 'ok', context: resolved });
      return { next: moved(okShape, from, resolved), effect: effectOf(resolve, resolved, event) };
    }
    // Cleared but kept firing needs `clearing` (a keep_firing_for, excluded above): left to XState.
    if (isCleared(context, event)) return undefined;
    return { next: { ...from, context: { ...context, ...observed(context, event) } } as AlertMachineSnapshot };
  };
}
