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

/** An entry of the registry: one fixed shape for every actor, so 100k of them stay compact. */
class Registered implements RegisteredActor {
  readonly id: string;
  readonly kind: string;
  readonly actor: AnyActorRef;
  readonly machine: AnyStateMachine;
  subscription: Subscription | undefined;

  constructor(entry: RegisteredActor) {
    this.id = entry.id;
    this.kind = entry.kind;
    this.actor = entry.actor;
    this.machine = entry.machine;
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
  add(entry: RegisteredActor): void {
    if (this.#actors.has(entry.id)) throw new Error(`actor '${entry.id}' is registered already`);
    const registered = new Registered(entry);
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
    this.#actors.set(entry.id, registered);
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
  return viewOfSnapshot(entry.id, entry.kind, entry.actor.getSnapshot(), withContext);
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
