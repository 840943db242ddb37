import { ValidationError } from '../errors.ts';
import { TOPICS } from '../streams/broker.ts';
import { createAlertEngine, type AlertEngine } from './alerts/engine.ts';
import { ruleOwnership } from './alerts/ownership.ts';
import { ruleChangeFeed } from './alerts/rule-changes.ts';
import type { Concern } from './concern.ts';
import type { OutboxHandoff, RuntimeContext, Wake } from './context.ts';
import type { TopicHandler } from './topic-handler.ts';

/** The alert concern, and its engine, which the in-process API (runtime.rules, runtime.ingest) shares with the routes. */
export interface AlertsConcern extends Concern {
  engine: AlertEngine;
}

type AlertDeps = Pick<RuntimeContext, 'config' | 'logger' | 'store' | 'broker' | 'registry' | 'metrics' | 'runs' | 'inspect'>;

/**
 * The alert concern: one actor per enabled rule, the interval worker, and the `device-readings`
 * topic, whose invalid readings are dead-lettered with the reason. `wake` tells the notifier of
 * the outbox rows an alert event wrote; `handoff` takes those written already claimed for it.
 */
export function wireAlerts(ctx: AlertDeps, wake?: Wake, handoff?: OutboxHandoff): AlertsConcern {
  const ownership = ruleOwnership({ broker: ctx.broker, topic: TOPICS.deviceReadings, logger: ctx.logger.child({ component: 'rule-ownership' }) });
  // Rules owned by partition: readings taken over HTTP go through the topic to their owners.
  const forward = ownership.assignments
    ? (reading: { device_id: string }) => ctx.broker.publish(TOPICS.deviceReadings, reading, { key: reading.device_id })
    : undefined;
  // Rule changes reach the instance that owns their device at once, not at its next interval.
  const ruleChanges = ownership.assignments
    ? ruleChangeFeed({ broker: ctx.broker, groupId: ctx.config.kafka?.groupId ?? 'vigil', logger: ctx.logger.child({ component: 'rule-changes' }) })
    : undefined;
  const engine = createAlertEngine({ ctx, ownership, forward, ruleChanges, wake, handoff });
  const readings: TopicHandler = async (messages) => {
    // A reading without `ts` takes the time the broker accepted it, not the time it is consumed: a
    // redelivered message then keeps its original time and is recognised as stale, not as new data.
    const result = engine.ingest(
      messages.map((m) => withBrokerTime(m.value, m.timestamp)),
      { waitOutRetries: true },
    );
    // The batch is acknowledged only once its readings and the alert events they caused are stored
    // (through a store held up by a lock: the writer retries them): an instance killed before that
    // leaves the batch to the next owner, which evaluates it again.
    await result.stored;
    const rejected = result.rejected.map(({ index, issue }) => ({ message: messages[index]!, error: new ValidationError([issue]).message }));
    return { rejected };
  };
  return {
    name: 'alerts',
    start: () => engine.start(),
    stop: (deadline) => engine.stop(deadline),
    topics: { [TOPICS.deviceReadings]: readings },
    engine,
  };
}

/** The reading with `ts` defaulted to the broker's timestamp (anything not a plain object is left for validation to reject). */
export function withBrokerTime(value: unknown, timestamp: string): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || 'ts' in value) return value;
  return { ...value, ts: timestamp };
}
