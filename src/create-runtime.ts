import type { Hono } from 'hono';
import { Registry } from 'prom-client';
import type { Observable } from 'rxjs';
import { loadConfig, type Config, type ConfigSource } from './config/index.ts';
import { ApiDocs } from './http/api-docs.ts';
import { createHttp, type HttpSurface, type RouteModule } from './http/app.ts';
import { answerClientError } from './http/errors.ts';
import { HotReads } from './http/hot-reads.ts';
import { HotWrites } from './http/hot-writes.ts';
import { adminRoutes } from './http/routes/admin.ts';
import { alertRoutes } from './http/routes/alerts.ts';
import { analyticsRoutes } from './http/routes/analytics.ts';
import { pluginRoutes } from './http/routes/plugins.ts';
import { readingRoutes } from './http/routes/readings.ts';
import { ruleRoutes } from './http/routes/rules.ts';
import { notificationRoutes } from './http/routes/notifications.ts';
import { silenceRoutes } from './http/routes/silences.ts';
import { SseHub, type SseHubOptions } from './http/sse-hub.ts';
import { assembleConcerns, type Assembly } from './runtime/assemble.ts';
import type { RuntimeContext } from './runtime/context.ts';
import { createInProcessApi, type InProcessApi } from './runtime/in-process-api.ts';
import { createLifecycle } from './runtime/lifecycle.ts';
import { listen } from './runtime/listen.ts';
import { loggerOf, type Logger } from './runtime/logger.ts';
import { registerRuntimeMetrics } from './runtime/metrics.ts';
import { registerClockOffset } from './runtime/store-clock.ts';
import { ActorRegistry, type ActorChange } from './runtime/registry.ts';
import { createRunReporter } from './runtime/run-reporter.ts';
import { SHUTDOWN_TIMEOUT_MS } from './runtime/shutdown-budget.ts';
import type { TopicHandler } from './runtime/topic-handler.ts';
import type { Broker } from './streams/broker.ts';
import { openBroker } from './streams/open-broker.ts';
import { openStore } from './storage/open-store.ts';
import type { Store } from './storage/store.ts';

/** Options of `createRuntime`; everything has a default, so `createRuntime()` runs on the embedded default. */
export interface RuntimeOptions {
  /** A validated config; when absent, one is loaded from `env` over `process.env` (see `inheritEnv`) and `overrides`. */
  config?: Config;
  /** Settings by their environment names (`PORT`, `DATABASE_URL`…); they win over `process.env`. */
  env?: Record<string, string | undefined>;
  /** Whether `env` is merged over `process.env` (default true); false reads `env` alone. */
  inheritEnv?: boolean;
  overrides?: ConfigSource;
  /** Adapters to use instead of the ones the config names (tests, embedding). */
  store?: Store;
  broker?: Broker;
  logger?: Logger;
  /** Handlers for topics other than `system-alerts`, routed by the subscriber; they win over Vigil's own. */
  handlers?: Record<string, TopicHandler>;
  sse?: SseHubOptions;
  /** The whole time `stop()` may take, in ms (default SHUTDOWN_TIMEOUT_MS, 5 s). */
  shutdownTimeoutMs?: number;
}

export interface StartOptions {
  /** Serve HTTP on the configured host and port (default true); an embedding gateway mounts `app` instead. */
  listen?: boolean;
}

/** A running (or ready to run) Vigil; `rules`, `ingest` and `alerts` are its in-process API (no HTTP, no rate limit). */
export interface Runtime extends InProcessApi {
  readonly config: Config;
  readonly logger: Logger;
  /** The Hono app with every route; mount it in a gateway or let `start()` serve it. */
  readonly app: Hono;
  readonly actors: ActorRegistry;
  /** This runtime's Prometheus metrics (its own registry, as `GET /metrics` serves it): a gateway can merge it into its own. */
  readonly metrics: Registry;
  readonly store: Store;
  readonly broker: Broker;
  /** Snapshot changes of every actor, as `GET /events` streams them; completes when the runtime stops. */
  observe(): Observable<ActorChange>;
  /** Migrates the store, restores and starts every actor, then serves HTTP; resolves with the URL when listening. */
  start(options?: StartOptions): Promise<{ url?: string }>;
  /**
   * Stops ticks, drains in-flight batches, persists snapshots, closes HTTP, broker and store, within
   * the shutdown budget (what is still stopping at its end is given up). Idempotent.
   */
  stop(): Promise<void>;
}

/** The ports every concern is wired from: the config (loaded unless given), adapters, registries. */
function openPorts(options: RuntimeOptions): RuntimeContext {
  const env = options.inheritEnv === false ? (options.env ?? {}) : { ...process.env, ...options.env };
  const config = options.config ?? loadConfig({ env, overrides: options.overrides });
  const logger = options.logger ?? loggerOf(config);
  const runs = createRunReporter();
  return {
    config,
    logger,
    store: options.store ?? openStore(config.database, logger.child({ component: 'store' })),
    broker: options.broker ?? openBroker(config.kafka, logger.child({ component: 'broker' }), runs),
    registry: new ActorRegistry(),
    metrics: new Registry(),
    runs,
  };
}

/** The HTTP routes of the concerns, each given the part of its concern it reads. */
function concernRoutes(ports: RuntimeContext, parts: Assembly): RouteModule[] {
  const { engine } = parts;
  return [
    pluginRoutes(parts.health),
    (app, tools) => ruleRoutes(app, tools, engine.rules, ports.config.rulesMaxBodyBytes),
    (app, tools) => readingRoutes(app, tools, engine),
    (app, tools) => alertRoutes(app, { ...tools, store: ports.store }, engine),
    adminRoutes(parts.janitor),
    analyticsRoutes(parts.analytics),
    silenceRoutes(parts.silences.silences),
    notificationRoutes(ports.store),
  ];
}

/** The HTTP surface over the ports and the concerns' parts. */
function httpOf(ports: RuntimeContext, parts: Assembly, sse: SseHub, isStarted: () => boolean): HttpSurface {
  const deps = { ...ports, sse, docs: new ApiDocs(), hotReads: new HotReads(), hotWrites: new HotWrites(), isStarted, readiness: parts.readiness, messages: parts.subscriber.messages };
  return createHttp(deps, concernRoutes(ports, parts));
}

/** Assembles Vigil from one config: adapters, concerns, HTTP. */
export function createRuntime(options: RuntimeOptions = {}): Runtime {
  const ports = openPorts(options);
  const { config, logger, registry } = ports;
  registerRuntimeMetrics(ports);
  registerClockOffset(ports.store, ports.metrics);
  const parts = assembleConcerns(ports, options.handlers);
  const sse = new SseHub(registry.changes(), logger.child({ component: 'sse' }), options.sse);
  const lifecycle = createLifecycle({
    ports,
    concerns: parts.concerns,
    stages: parts.stages,
    budgetMs: options.shutdownTimeoutMs ?? SHUTDOWN_TIMEOUT_MS,
    onStopping: () => sse.close(),
  });
  const http = httpOf(ports, parts, sse, lifecycle.isStarted);

  async function start(startOptions: StartOptions = {}): Promise<{ url?: string }> {
    const serve = startOptions.listen === false ? undefined : () => listen(http.nodeListener(), config, answerClientError);
    const { url } = await lifecycle.start(serve);
    if (url) logger.info({ url, dashboard: `${url}/` }, 'vigil listening');
    return { url };
  }

  return {
    config,
    logger,
    app: http.app,
    actors: registry,
    metrics: ports.metrics,
    store: ports.store,
    broker: ports.broker,
    observe: () => registry.changes(),
    ...createInProcessApi(ports.store, parts.engine),
    start,
    stop: lifecycle.stop,
  };
}
