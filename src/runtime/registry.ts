import { Observable, Subject } from 'rxjs';
import type { AnyActorRef, AnyStateMachine, Snapshot, Subscription } from 'xstate';

/** One snapshot change of one actor: what `runtime.observe()` emits. */
export interface ActorChange {
  actorId: string;
  kind: string;
  snapshot: Snapshot<unknown> & { value?: unknown; context?: unknown };
}

/** An actor as the registry keeps it. */
export interface RegisteredActor {
  id: string;
  kind: string;
  actor: AnyActorRef;
  machine: AnyStateMachine;
}

/** The JSON view of an actor served over HTTP and SSE. */
export interface ActorView {
  id: string;
  kind: string;
  status: string;
  value: unknown;
  context?: unknown;
  /** What stopped the actor, when its status is `error`. */
  error?: string;
}

/** An actor created on first use: `create` returns it unstarted, `peek` its snapshot until then. */
export interface LazyActor {
  id: string;
  kind: string;
  machine: AnyStateMachine;
  create: () => AnyActorRef;
  peek: () => ActorChange['snapshot'];
}

/**
 * An entry of the registry: one fixed shape for every actor, so 100k of them stay compact. A lazy
 * entry holds how to create its actor, which happens (subscribed, then started) the first time
 * anything asks for `actor`; until then `snapshot()` answers from `peek` without creating it.
 */
class Registered implements RegisteredActor {
  readonly id: string;
  readonly kind: string;
  readonly machine: AnyStateMachine;
  subscription: Subscription | undefined;
  #actor: AnyActorRef | undefined;
  #lazy: LazyActor | undefined;
  readonly #materialized: ((registered: Registered) => void) | undefined;

  constructor(entry: RegisteredActor | LazyActor, materialized?: (registered: Registered) => void) {
    this.id = entry.id;
    this.kind = entry.kind;
    this.machine = entry.machine;
    // A lazy entry comes with what to call once it is created (its object may have an `actor` of its own).
    if (materialized) this.#lazy = entry as LazyActor;
    else this.#actor = (entry as RegisteredActor).actor;
    this.#materialized = materialized;
  }

  get actor(): AnyActorRef {
    if (this.#actor) return this.#actor;
    const lazy = this.#lazy!;
    this.#lazy = undefined;
    this.#actor = lazy.create();
    this.#materialized?.(this);
    this.#actor.start();
    return this.#actor;
  }

  /** Whether the actor exists (a lazy one only once something asked for it). */
  get created(): boolean {
    return this.#actor !== undefined;
  }

  /** The actor's current snapshot, without creating a lazy one. */
  snapshot(): ActorChange['snapshot'] {
    return this.#actor ? (this.#actor.getSnapshot() as ActorChange['snapshot']) : this.#lazy!.peek();
  }
}

/**
 * Vigil's registry of root actors, keyed by actor id. Per-rule actors live here as root actors
 * rather than as spawned children of one parent: spawning thousands of children is quadratic.
 */
export class ActorRegistry {
  readonly #actors = new Map<string, Registered>();
  readonly #changes = new Subject<ActorChange>();

  /** Registers a started or unstarted actor; its snapshot changes flow into `changes()`. */
  add(entry: RegisteredActor): RegisteredActor & { readonly created: boolean } {
    const registered = this.#put(new Registered(entry));
    this.#watch(registered);
    return registered;
  }

  /**
   * Registers an actor created on first use (see `LazyActor`): listed at once, its changes flow
   * into `changes()` from its creation on.
   */
  addLazy(entry: LazyActor): RegisteredActor & { readonly created: boolean } {
    return this.#put(new Registered(entry, (registered) => this.#watch(registered)));
  }

  #put(registered: Registered): Registered {
    if (this.#actors.has(registered.id)) throw new Error(`actor '${registered.id}' is registered already`);
    this.#actors.set(registered.id, registered);
    return registered;
  }

  #watch(registered: Registered): void {
    const changes = this.#changes;
    let last: unknown;
    // One plain function serves as both listeners: per actor this costs ~1 KB less than an observer
    // object (measured with 100k rule actors). As the error listener it also emits the failed
    // snapshot (status 'error'), and keeps XState from reporting the error as unhandled.
    const emit = (): void => {
      const snapshot = registered.actor.getSnapshot() as ActorChange['snapshot'];
      if (snapshot === last) return;
      last = snapshot;
      changes.next({ actorId: registered.id, kind: registered.kind, snapshot });
    };
    registered.subscription = registered.actor.subscribe(emit, emit);
  }

  /** Tells `changes()` of a new snapshot of an actor not created yet, which its logic computed without it (see rule entries). */
  announce(actorId: string, kind: string, snapshot: ActorChange['snapshot']): void {
    this.#changes.next({ actorId, kind, snapshot });
  }

  /** Removes an actor (it is not stopped: whoever started it stops it). */
  remove(id: string): RegisteredActor | undefined {
    const entry = this.#actors.get(id);
    if (!entry) return undefined;
    entry.subscription?.unsubscribe();
    this.#actors.delete(id);
    return entry;
  }

  get(id: string): RegisteredActor | undefined {
    return this.#actors.get(id);
  }

  get size(): number {
    return this.#actors.size;
  }

  /** Every actor, or those of one kind, in registration order. */
  *entries(kind?: string): IterableIterator<RegisteredActor> {
    for (const entry of this.#actors.values()) if (!kind || entry.kind === kind) yield entry;
  }

  /** Snapshot changes of every registered actor. */
  changes(): Observable<ActorChange> {
    return this.#changes.asObservable();
  }

  /** Ends the change stream (after every actor has stopped). */
  complete(): void {
    for (const id of [...this.#actors.keys()]) this.remove(id);
    this.#changes.complete();
  }
}

/** The JSON view of an actor's current snapshot; `withContext` adds the context. */
export function viewOf(entry: RegisteredActor, withContext: boolean): ActorView {
  return viewOfSnapshot(entry.id, entry.kind, snapshotOf(entry), withContext);
}

/** An actor's current snapshot; a lazy actor not created yet answers without being created. */
export function snapshotOf(entry: RegisteredActor): ActorChange['snapshot'] {
  return entry instanceof Registered ? entry.snapshot() : (entry.actor.getSnapshot() as ActorChange['snapshot']);
}

/** The JSON view of one snapshot. */
export function viewOfSnapshot(id: string, kind: string, snapshot: ActorChange['snapshot'], withContext: boolean): ActorView {
  const view: ActorView = { id, kind, status: snapshot.status, value: snapshot.value ?? null };
  if (snapshot.status === 'error') view.error = errorText((snapshot as { error?: unknown }).error);
  if (withContext) view.context = snapshot.context ?? null;
  return view;
}

/** An actor's error as one line of text. */
function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : (JSON.stringify(error) ?? 'unknown error');
}
