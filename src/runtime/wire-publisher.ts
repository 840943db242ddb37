import { randomUUID } from 'node:crypto';
import { createActor, fromPromise } from 'xstate';
import { publisherMachine, type PublisherContext, type PublishRequest } from '../actors/publisher.ts';
import { TOPICS, type PublishReceipt } from '../streams/broker.ts';
import { actorConcern, type Concern } from './concern.ts';
import type { RuntimeContext } from './context.ts';
import { messageOf } from '../errors.ts';

/** The periodic check published to `system-alerts` on every tick. */
export function periodicCheck(request: PublishRequest, checkId: string = randomUUID()) {
  return {
    alert_type: 'periodic_check',
    status: 'healthy',
    timestamp: new Date(request.tick.firedAt).toISOString(),
    details: { message: 'Periodic system check', check_id: checkId, tick: request.tick.n },
  };
}

/** The publisher concern: its actor publishes to the broker and logs, counts and reports each outcome. */
export function publisherConcern(ctx: Pick<RuntimeContext, 'config' | 'logger' | 'store' | 'broker' | 'registry' | 'runs' | 'inspect'>): Concern {
  const logger = ctx.logger.child({ actor: 'publisher' });
  return actorConcern({
    id: 'publisher',
    kind: 'publisher',
    ctx,
    create: (restored) => {
      const machine = publisherMachine.provide({
        actors: {
          publish: fromPromise<PublishReceipt, PublishRequest>(({ input }) =>
            ctx.broker.publish(TOPICS.systemAlerts, periodicCheck(input), { key: 'periodic-check' }),
          ),
        },
        actions: {
          reportPublished: (_, { receipt }) => {
            logger.info({ topic: receipt.topic, partition: receipt.partition, offset: receipt.offset }, 'system alert published');
            ctx.runs.report('publisher', { ok: true });
          },
          reportFailed: (_, { error }) => {
            logger.error({ err: error }, 'system alert publish failed');
            ctx.runs.report('publisher', { ok: false, error: messageOf(error) });
          },
          reportSkipped: (_, { n }) => logger.warn({ tick: n }, 'tick skipped: previous publish still in flight'),
        },
      });
      const input = { periodMs: ctx.config.publishIntervalSeconds * 1_000, restored: restored as Partial<PublisherContext> | undefined };
      return { machine, actor: createActor(machine, { input, id: 'publisher', inspect: ctx.inspect }) };
    },
  });
}
