import type { AlertEngine } from './alerts/engine.ts';
import type { Concern, ReadinessCheck } from './concern.ts';
import type { RuntimeContext } from './context.ts';
import { wireInspection } from './inspect.ts';
import type { TopicHandler } from './topic-handler.ts';
import { wireAlerts } from './wire-alerts.ts';
import { analyticsConcern, type AnalyticsConcern } from './wire-analytics.ts';
import { janitorConcern, type JanitorConcern } from './wire-janitor.ts';
import { mqttConcerns } from './wire-mqtt.ts';
import { notifierConcern } from './wire-notifier.ts';
import { pluginHealthConcern, type PluginHealthConcern } from './wire-plugin-health.ts';
import { propagatorConcerns } from './wire-propagator.ts';
import { publisherConcern } from './wire-publisher.ts';
import { silencesConcern, type SilencesConcern } from './wire-silences.ts';
import { subscriberConcern, type SubscriberConcern } from './wire-subscriber.ts';

/** The concerns of one runtime, and the parts of them the in-process API and the HTTP routes read. */
export interface Assembly {
  /** Every concern, in start order. */
  concerns: Concern[];
  /**
   * The stop order: each stage stops in parallel once the one before has stopped. Sources and
   * producers first (nothing new comes in), then the workers that drain what they brought, then
   * the observers that watched them all.
   */
  stages: Concern[][];
  engine: AlertEngine;
  subscriber: SubscriberConcern;
  health: PluginHealthConcern;
  janitor: JanitorConcern;
  analytics: AnalyticsConcern;
  silences: SilencesConcern;
  /** Readiness checks of every concern, for `GET /readyz`. */
  readiness: ReadinessCheck[];
}

/**
 * Wires every concern from the shared ports. Inspection comes first: its observer is handed to
 * every other concern. Topic handlers of the concerns go to the subscriber, after them an
 * embedder's `handlers`, which win over a concern's handler of the same topic.
 */
export function assembleConcerns(ports: RuntimeContext, handlers: Record<string, TopicHandler> = {}): Assembly {
  const inspection = wireInspection(ports);
  const ctx: RuntimeContext = inspection ? { ...ports, inspect: inspection.inspect } : ports;
  const silences = silencesConcern(ctx);
  const notifier = notifierConcern(ctx, silences.silences);
  const health = pluginHealthConcern(ctx, notifier.wake);
  const alerts = wireAlerts(ctx, notifier.wake, notifier.handoff);
  const janitor = janitorConcern(ctx);
  const analytics = analyticsConcern(ctx);
  const producers = [
    ...mqttConcerns(ctx, alerts.engine),
    // PUBLISH_INTERVAL_SECONDS=0 turns the heartbeat off.
    ...(ctx.config.publishIntervalSeconds > 0 ? [publisherConcern(ctx)] : []),
    janitor,
    analytics,
    ...propagatorConcerns(ctx),
  ];
  // Silences stop with the observers, after the notifier that screens through them.
  const observers = [...(inspection ? [inspection.concern] : []), health, silences];
  const topics = new Map(Object.entries({ ...notifier.topics, ...alerts.topics, ...handlers }));
  const subscriber = subscriberConcern(ctx, topics);
  // Consumers start before producers, so nothing produced is missed.
  const concerns = [...observers, notifier, alerts, subscriber, ...producers];
  return {
    concerns,
    stages: [[subscriber, ...producers], [alerts, notifier], observers],
    engine: alerts.engine,
    subscriber,
    health,
    janitor,
    analytics,
    silences,
    readiness: concerns.flatMap((concern) => concern.readiness ?? []),
  };
}
