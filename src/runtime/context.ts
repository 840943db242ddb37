import type { Registry } from 'prom-client';
import type { Config } from '../config/index.ts';
import type { Notification } from '../domain/notification.ts';
import type { Broker } from '../streams/broker.ts';
import type { Store } from '../storage/store.ts';
import type { Repeat, RepeatOf } from './dedup-memory.ts';
import type { Logger } from './logger.ts';
import type { ActorRegistry } from './registry.ts';
import type { RunFeed } from './run-reporter.ts';
import type { InspectionEvent, Observer } from 'xstate';

/** What `createActor(machine, { inspect })` is given. */
export type InspectObserver = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

/**
 * The ports every concern is wired from, made once by the runtime and never changed: a concern takes
 * the few it needs (`Pick<RuntimeContext, 'store' | 'logger'>`) and hands back what it offers as
 * values (see Concern), never by writing here.
 */
export interface RuntimeContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly store: Store;
  readonly broker: Broker;
  readonly registry: ActorRegistry;
  /** Prometheus metrics of this runtime (its own registry, never the global one). */
  readonly metrics: Registry;
  /** Where periodic jobs, consumers and channels report each run (plugin health listens). */
  readonly runs: RunFeed;
  /** The Stately inspector's observer when `--inspect` is on: pass it to `createActor` when set. */
  readonly inspect?: InspectObserver;
}

/** Tells the notifier that outbox rows were just written, so it claims now rather than at its next poll. */
export type Wake = () => void;

/**
 * The in-process notifier's hand for outbox rows written already claimed (see the alert store's
 * `commit` and its `claim`): they skip the claim, the one statement per row they would cost again.
 */
export interface OutboxHandoff {
  /**
   * Whether rows written now may be written claimed for it: it is running, and its last claim found no
   * more due rows than it took, so no older row of the same rule waits unclaimed to go out before them.
   */
  taking(): boolean;
  /** Delivers rows written claimed; any it cannot deliver (it stopped meanwhile) are claimed again once stale. */
  take(rows: Notification[]): void;
  /**
   * The send a new notification would repeat, as the deliverer remembers it: the alert writer then
   * writes no row for it (the send covers it), only counts it. None while a silence is active, so
   * that a silenced row is still suppressed.
   */
  repeatOf: RepeatOf;
  /** Counts the repeats the writer did not write, as the deliverer counts the repeats it finds. */
  repeated(repeats: Repeat[]): void;
}
