import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Hono } from 'hono';
import { Registry } from 'prom-client';
import type { Observable } from 'rxjs';
import { loadConfig, type Config, type ConfigSource } from './config.ts';
import { ConfigError } from './errors.ts';
import { ApiDocs } from './http/api-docs.ts';
import { createHttp } from './http/app.ts';
import { answerClientError } from './http/errors.ts';
import { HotReads } from './http/hot-reads.ts';
import { SseHub, type SseHubOptions } from './http/sse-hub.ts';
import type { SubscriberContext } from './actors/subscriber.ts';
import type { Concern } from './runtime/concern.ts';
import type { RuntimeContext } from './runtime/context.ts';
import { inspectionConcerns } from './runtime/inspect.ts';
import { loggerOf, type Logger } from './runtime/logger.ts';
import { registerRuntimeMetrics } from './runtime/metrics.ts';
import { ActorRegistry, type ActorChange } from './runtime/registry.ts';
import { createRunReporter } from './runtime/run-reporter.ts';
import type { TopicHandler } from './runtime/topic-handler.ts';
import { createInProcessApi, type InProcessApi } from './runtime/in-process-api.ts';
import type { AlertEngine } from './runtime/alerts/engine.ts';
import { wireAlerts } from './runtime/wire-alerts.ts';
import { mqttConcerns } from './runtime/wire-mqtt.ts';
import { analyticsConcern } from './runtime/wire-analytics.ts';
import { janitorConcern } from './runtime/wire-janitor.ts';
import { registerNotificationTopic } from './runtime/notification-topic.ts';
import { notifierConcern } from './runtime/wire-notifier.ts';
import { pluginHealthConcern } from './runtime/wire-plugin-health.ts';
import { propagatorConcerns } from './runtime/wire-propagator.ts';
import { publisherConcern } from './runtime/wire-publisher.ts';
import { subscriberConcern } from './runtime/wire-subscriber.ts';
import { wireSilences } from './runtime/wire-silences.ts';
import type { Broker } from './streams/broker.ts';
import { openBroker } from './streams/open-broker.ts';
import { openStore } from './storage/open-store.ts';
import type { SeenMessage, Store } from './storage/store.ts';

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
  /** Handlers for topics other than `system-alerts`, routed by the subscriber. */
  handlers?: Record<string, TopicHandler>;
  sse?: SseHubOptions;
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
  /** Stops ticks, drains in-flight batches, persists snapshots, closes HTTP, broker and store. Idempotent. */
  stop(): Promise<void>;
}

/** Listen errors that mean HOST names no address of this machine. */
const UNKNOWN_HOST = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EADDRNOTAVAIL']);

/**
 * The concerns of a runtime, in start order (they stop in reverse): consumers before producers;
 * and the alert engine, which the in-process API shares with the routes. Inspection is wired first:
 * it sets `ctx.inspect`, which the others read when they create their actors.
 */
function assembleConcerns(ctx: RuntimeContext): { concerns: Concern[]; engine: AlertEngine } {
  const inspection = inspectionConcerns(ctx);
  const health = pluginHealthConcern(ctx);
  const silencing = wireSilences(ctx);
  const notifier = notifierConcern(ctx, silencing.silences);
  const alerts = wireAlerts(ctx);
  const concerns = [
    ...inspection,
    health,
    silencing.concern,
    notifier,
    ...alerts.concerns,
    ...mqttConcerns(ctx, alerts.engine),
    subscriberConcern(ctx),
    // PUBLISH_INTERVAL_SECONDS=0 turns the heartbeat off.
    ...(ctx.config.publishIntervalSeconds > 0 ? [publisherConcern(ctx)] : []),
    janitorConcern(ctx),
    analyticsConcern(ctx),
    ...propagatorConcerns(ctx),
  ];
  return { concerns, engine: alerts.engine };
}

/** Assembles Vigil from one config: adapters, actors, HTTP. */
export function createRuntime(options: RuntimeOptions = {}): Runtime {
  const env = options.inheritEnv === false ? (options.env ?? {}) : { ...process.env, ...options.env };
  const config = options.config ?? loadConfig({ env, overrides: options.overrides });
  const logger = options.logger ?? loggerOf(config);
  const runs = createRunReporter();
  const ctx: RuntimeContext = {
    config,
    logger,
    store: options.store ?? openStore(config.database, logger.child({ component: 'store' })),
    broker: options.broker ?? openBroker(config.kafka, logger.child({ component: 'broker' }), runs),
    registry: new ActorRegistry(),
    metrics: new Registry(),
    runs,
    handlers: new Map(Object.entries(options.handlers ?? {})),
    routes: [],
  };
  const { store, broker, registry } = ctx;
  registerRuntimeMetrics(ctx);
  registerNotificationTopic(ctx);
  const { concerns, engine } = assembleConcerns(ctx);
  const api = createInProcessApi(store, engine);
  const sse = new SseHub(registry.changes(), logger.child({ component: 'sse' }), options.sse);
  let started = false;
  let server: Server | undefined;
  let stopping: Promise<void> | undefined;

  const subscriberMessages = (): SeenMessage[] => {
    const context = registry.get('subscriber')?.actor.getSnapshot().context as SubscriberContext | undefined;
    return context?.buffer.items ?? [];
  };
  const http = createHttp({ ...ctx, sse, docs: new ApiDocs(), hotReads: new HotReads(), isStarted: () => started, messages: subscriberMessages }, ctx.routes);
  const app = http.app;

  async function start(startOptions: StartOptions = {}): Promise<{ url?: string }> {
    await store.migrate();
    for (const concern of concerns) await concern.start();
    started = true;
    if (startOptions.listen === false) return {};
    const url = await new Promise<string>((resolve, reject) => {
      const listening = createServer(http.nodeListener());
      listening.on('clientError', answerClientError);
      server = listening;
      listening.listen(config.port, config.host, () => resolve(`http://${config.host}:${(listening.address() as AddressInfo).port}`));
      listening.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'EADDRINUSE' || error.code === 'EACCES'
            ? new ConfigError(`PORT: ${config.host}:${config.port} cannot be used (${error.code}); set PORT to a free port, or 0 for any`, 'PORT')
            : UNKNOWN_HOST.has(error.code ?? '')
              ? new ConfigError(`HOST: ${config.host} is not an address of this machine (${error.code}); set HOST to 127.0.0.1, 0.0.0.0 or a local address`, 'HOST')
              : error,
        ),
      );
    });
    logger.info({ url, dashboard: `${url}/` }, 'vigil listening');
    return { url };
  }

  async function shutdown(): Promise<void> {
    started = false;
    logger.info('stopping');
    sse.close();
    const closing = server ? closeServer(server) : Promise.resolve();
    for (const concern of [...concerns].reverse()) {
      try {
        await concern.stop();
      } catch (error) {
        logger.error({ err: error, concern: concern.name }, 'concern failed to stop cleanly');
      }
    }
    await closing;
    await broker.close();
    await store.close();
    registry.complete();
    logger.info('stopped');
  }

  return {
    config,
    logger,
    app,
    actors: registry,
    metrics: ctx.metrics,
    store,
    broker,
    observe: () => registry.changes(),
    ...api,
    start,
    stop: () => (stopping ??= shutdown()),
  };
}

/** Closes the server; connections still open after a second (SSE) are cut. */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), 1_000);
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
  });
}
