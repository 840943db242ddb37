import { createActor, type Actor, type AnyActorRef } from 'xstate';
import type { AlertContext, AlertInput, AlertMachineEvent, alertMachine, PersistedAlert } from '../../actors/alert.ts';
import { initialContext } from '../../actors/alert-evaluation.ts';
import type { Rule } from '../../domain/rule.ts';
import { snapshotOf, type ActorChange, type ActorRegistry, type LazyActor, type RegisteredActor } from '../registry.ts';
import type { AlertMachineSnapshot, HeldStep } from './held-step.ts';
import type { Route, RuleEntry } from './series-routes.ts';

/** The actor id of a rule's actor, and the prefix of every one (snapshots are saved under these ids). */
export const RULE_ACTOR_PREFIX = 'rule:';
export const ruleActorId = (ruleId: string): string => `${RULE_ACTOR_PREFIX}${ruleId}`;

export type AlertSnapshot = ActorChange['snapshot'] & { value: unknown; context: AlertContext };

/** What every rule's entry shares: how its actor is created, and how it moves without one. */
export interface Shared {
  machine: typeof alertMachine;
  host: AnyActorRef;
  timers: boolean;
  step: HeldStep;
  registry: ActorRegistry;
}

/**
 * A rule with its registry entry, whose actor may be created on first use. It is its own
 * `LazyActor` (methods, not closures, so that 100k idle rules cost little heap). Until then, its
 * transitions that need no actor are XState's own computed without one (`advance`): the entry holds
 * the snapshot they lead to, and the actor, when something needs it, starts from there.
 */
export class Entry implements RuleEntry, LazyActor {
  readonly id: string;
  readonly kind = 'rule';
  rule: Rule;
  route: Route | undefined = undefined;
  #registered: (RegisteredActor & { readonly created: boolean }) | undefined;
  readonly #at: number;
  readonly #restored: PersistedAlert | undefined;
  readonly #shared: Shared;
  /** The snapshot while no actor exists, once a transition moved it off the initial one. */
  #held: AlertMachineSnapshot | undefined;

  constructor(rule: Rule, at: number, restored: PersistedAlert | undefined, shared: Shared) {
    this.id = ruleActorId(rule.id);
    this.rule = rule;
    this.#at = at;
    this.#restored = restored;
    this.#shared = shared;
  }

  get machine(): typeof alertMachine {
    return this.#shared.machine;
  }

  /** Registers the entry: lazily when `lazy`, else with its actor created (not started). */
  register(registry: ActorRegistry, lazy: boolean): void {
    this.#registered = lazy ? registry.addLazy(this) : registry.add({ id: this.id, kind: this.kind, actor: this.create(), machine: this.machine });
  }

  /** The actor's input: the rule as it is when the actor is created (an edit before then only replaces it). */
  #input(): AlertInput {
    return { rule: this.rule, now: this.#at, restored: this.#restored, timers: this.#shared.timers };
  }

  create(): Actor<typeof alertMachine> {
    const { machine, host } = this.#shared;
    const held = this.#held;
    this.#held = undefined;
    return held
      ? createActor(machine, { id: this.id, snapshot: held, parent: host, input: this.#input() })
      : createActor(machine, { id: this.id, input: this.#input(), parent: host });
  }

  /** The snapshot of the actor while not created: the one held, else its initial one (`ok`, nothing armed). */
  peek(): AlertSnapshot {
    return this.#held ?? { status: 'active', output: undefined, error: undefined, value: 'ok', context: initialContext(this.#input()) };
  }

  /** The snapshot held while no actor exists (see `advance`); undefined while the rule is as it started. */
  get held(): AlertMachineSnapshot | undefined {
    return this.#held;
  }

  get current(): AlertMachineSnapshot | undefined {
    return this.created ? this.actor.getSnapshot() : this.#held;
  }

  /**
   * Takes `event` without an actor (not created yet) when its transition needs none (see
   * `createHeldStep`), announcing the new snapshot as an actor's change would be; false when it needs
   * one (nothing was done: send it to `actor`). Throws what a provided effect threw.
   */
  advance(event: AlertMachineEvent): boolean {
    const { machine, step, registry } = this.#shared;
    // The initial snapshot as the actor would start: a rule waiting for its first use arms nothing on entry (see `startsIdle`).
    const from = this.#held ?? machine.resolveState({ value: 'ok', context: initialContext(this.#input()) });
    const to = step(from, event);
    if (to === undefined) return false;
    if (to === from) return true;
    this.#held = to;
    registry.announce(this.id, this.kind, to);
    return true;
  }

  /** The latest reading's value its actor starts with (see `RuleEntry`); as `initialContext` takes it. */
  get value(): number | null {
    return this.#restored?.context.value ?? null;
  }

  get lastReadingAt(): number | null {
    return this.#restored?.context.lastReadingAt ?? null;
  }

  get actor(): Actor<typeof alertMachine> {
    return this.#registered!.actor as Actor<typeof alertMachine>;
  }

  get created(): boolean {
    return this.#registered!.created;
  }

  /** The actor's snapshot, without creating it. */
  snapshot(): AlertSnapshot {
    return snapshotOf(this.#registered!) as AlertSnapshot;
  }
}

/**
 * Whether a rule's actor can wait for its first use: it starts in `ok` (no state to resume) and arms
 * no timer there (no nodata deadline), so until an evaluation reaches it, its snapshot is its initial
 * one. With the inspector on, every actor is created at once so that the inspector sees each.
 */
export const startsIdle = (rule: Rule, restored: PersistedAlert | undefined, inspect: unknown): boolean =>
  !inspect && rule.nodata_seconds == null && (!restored || restored.state === 'ok');
