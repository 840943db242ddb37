import type { Registry } from 'prom-client';
import type { Config } from '../config/index.ts';
import type { Broker } from '../streams/broker.ts';
import type { Store } from '../storage/store.ts';
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
