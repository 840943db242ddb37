import { ValidationError } from '../errors.ts';
import { alertRoutes } from '../http/routes/alerts.ts';
import { readingRoutes } from '../http/routes/readings.ts';
import { ruleRoutes } from '../http/routes/rules.ts';
import { TOPICS } from '../streams/broker.ts';
import { createAlertEngine } from './alerts/engine.ts';
import { ruleOwnership } from './alerts/ownership.ts';
import { ruleChangeFeed } from './alerts/rule-changes.ts';
import type { Concern } from './concern.ts';
import type { RuntimeContext } from './context.ts';
import type { TopicHandler } from './topic-handler.ts';

/**
 * The alert concern: one actor per enabled rule, the interval worker, the readings path (HTTP and
 * the `device-readings` topic, whose invalid readings are dead-lettered with the reason) and the
 * rule and alert routes.
 */
export function alertConcerns(ctx: RuntimeContext): Concern[] {
  const ownership = ruleOwnership({ broker: ctx.broker, topic: TOPICS.deviceReadings, logger: ctx.logger.child({ component: 'rule-ownership' }) });
  // Rules owned by partition: readings taken over HTTP go through the topic to their owners.
  const forward = ownership.assignments
    ? (reading: { device_id: string }) => ctx.broker.publish(TOPICS.deviceReadings, reading, { key: reading.device_id })
    : undefined;
  // Rule changes reach the instance that owns their device at once, not at its next interval.
  const ruleChanges = ownership.assignments
    ? ruleChangeFeed({ broker: ctx.broker, groupId: ctx.config.kafka?.groupId ?? 'vigil', logger: ctx.logger.child({ component: 'rule-changes' }) })
    : undefined;
  const engine = createAlertEngine({ ctx, ownership, forward, ruleChanges });
  const readings: TopicHandler = async (messages) => {
    // A reading without `ts` takes the time the broker accepted it, not the time it is consumed: a
    // redelivered message then keeps its original time and is recognised as stale, not as new data.
    const result = engine.ingest(messages.map((m) => withBrokerTime(m.value, m.timestamp)));
    // The batch is acknowledged only once its readings are stored and the alert writes they caused
    // landed: an instance killed before that leaves the batch to the next owner, which evaluates it again.
    await engine.settle();
    const rejected = result.rejected.map(({ index, issue }) => ({ message: messages[index]!, error: new ValidationError([issue]).message }));
    return { rejected };
  };
  // An embedder's own handler of the topic (createRuntime({ handlers })) wins; readings then come over HTTP only.
  if (!ctx.handlers.has(TOPICS.deviceReadings)) ctx.handlers.set(TOPICS.deviceReadings, readings);
  ctx.routes.push(
    (app, deps) => ruleRoutes(app, deps, engine.rules),
    (app, deps) => readingRoutes(app, deps, engine),
    (app, deps) => alertRoutes(app, deps, engine),
  );
  return [{ name: 'alerts', start: () => engine.start(), stop: () => engine.stop() }];
}

/** The reading with `ts` defaulted to the broker's timestamp (anything not a plain object is left for validation to reject). */
export function withBrokerTime(value: unknown, timestamp: string): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || 'ts' in value) return value;
  return { ...value, ts: timestamp };
}
