import type { Registry } from 'prom-client';
import type { Config } from '../config.ts';
import type { RouteModule } from '../http/app.ts';
import type { Broker } from '../streams/broker.ts';
import type { Store } from '../storage/store.ts';
import type { Logger } from './logger.ts';
import type { ActorRegistry } from './registry.ts';
import type { RunFeed } from './run-reporter.ts';
import type { InspectObserver } from './inspect.ts';
import type { TopicHandler } from './topic-handler.ts';

/**
 * What every concern is wired from. A concern factory may register topic handlers and route
 * modules here while the runtime is being assembled, before the HTTP app and the subscriber exist.
 */
export interface RuntimeContext {
  config: Config;
  logger: Logger;
  store: Store;
  broker: Broker;
  registry: ActorRegistry;
  /** Prometheus metrics of this runtime (its own registry, never the global one). */
  metrics: Registry;
  /** Where periodic jobs, consumers and channels report each run (plugin health listens). */
  runs: RunFeed;
  /** Handlers of broker topics other than `system-alerts`, routed by the subscriber. */
  handlers: Map<string, TopicHandler>;
  /** Extra HTTP routes, added to the app after the built-in ones. */
  routes: RouteModule[];
  /** Extra readiness checks shown by `GET /readyz` (the MQTT connection, say). */
  readiness?: { name: string; check(): { ok: boolean; detail?: string } }[];
  /**
   * The Stately inspector's observer when `--inspect` is on: pass it to every `createActor(machine,
   * { inspect: ctx.inspect })`. Set by the inspection concern, which is assembled first.
   */
  inspect?: InspectObserver;
}
