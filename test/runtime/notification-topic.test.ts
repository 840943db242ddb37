import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/create-runtime.ts';
import { notificationTopicHandler, topicNotificationId } from '../../src/runtime/notification-topic.ts';
import { deadLetterTopic, TOPICS, type Broker, type BrokerMessage } from '../../src/streams/broker.ts';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { createLogger } from '../../src/runtime/logger.ts';
import { createKafkaBroker } from '../../src/streams/brokers/kafka.ts';
import { createSqliteStore } from '../../src/storage/sqlite/index.ts';
import type { Store } from '../../src/storage/store.ts';
import { kafkaBrokers } from '../support/kafka.ts';

const base = { DATABASE_URL: 'sqlite::memory:', BATCH_WAIT_MS: '20', LOG_LEVEL: 'silent', PUBLISH_INTERVAL_SECONDS: '3600' };
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const eventually = async <T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> => {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
};

describe('the notifications topic', () => {
  const running: Runtime[] = [];
  afterEach(async () => {
    for (const runtime of running.splice(0)) await runtime.stop();
  });

  const started = async (): Promise<Runtime> => {
    const runtime = createRuntime({ inheritEnv: false, env: base });
    running.push(runtime);
    await runtime.start({ listen: false });
    return runtime;
  };

  it('puts the notifications of a message in the outbox, and the notifier delivers them and marks them sent', async () => {
    const runtime = await started();
    await runtime.broker.publish(TOPICS.notifications, {
      notifications: [
        { channel: 'console', severity: 'warning', title: 'disk 91%', message: 'gw-1 disk above 90%' },
        { channel: 'console', severity: 'info', title: 'disk ok', message: 'gw-2 back to normal', dedup_key: 'gw-2-disk' },
      ],
    });
    const sent = await eventually(() => runtime.store.notifications.list({ status: 'sent' }), (rows) => rows.length === 2, 'both sent');
    expect(sent.map((row) => row.title).sort()).toEqual(['disk 91%', 'disk ok']);
    expect(sent.find((row) => row.title === 'disk 91%')?.dedup_key).toBe(`kafka:${TOPICS.notifications}/0/0/0`);
    expect(await runtime.store.notifications.list({ status: 'pending' })).toEqual([]);
  });

  it('dead-letters a message that carries no notification, naming the field, and goes on', async () => {
    const runtime = await started();
    const dead: unknown[] = [];
    const subscription = runtime.broker
      .consume([deadLetterTopic(TOPICS.notifications)], { groupId: 'dlq-reader', batchSize: 10, batchMs: 10 })
      .subscribe((batch) => {
        dead.push(...batch.messages.map((message) => message.value));
        batch.ack();
      });
    try {
      await runtime.broker.publish(TOPICS.notifications, { channel: 'console', severity: 'loud', title: 't', message: 'm' });
      await runtime.broker.publish(TOPICS.notifications, { channel: 'console', severity: 'info', title: 'after', message: 'm' });
      await eventually(async () => dead, (values) => values.length === 1, 'the dead letter');
      expect(dead[0]).toMatchObject({ error: expect.stringMatching(/^not a notification: /) });
      await eventually(() => runtime.store.notifications.list({ status: 'sent' }), (rows) => rows.some((row) => row.title === 'after'), 'the next message sent');
    } finally {
      subscription.unsubscribe();
    }
  });

  it('a message delivered again (its first delivery cut off after the write) is written once, under the id derived from it or the one it names', async () => {
    const runtime = await started();
    await expectRedeliveryWrittenOnce(runtime.broker, runtime.store, 'notifications-redelivered', 'redelivery', 5_000);
  });

  it.skipIf(!KAFKA_BROKERS)('the same on a real Kafka (KAFKA_BROKERS): the redelivered message writes nothing new', async () => {
    const broker = createKafkaBroker({
      kafka: new Kafka({ clientId: 'vigil-notification-topic', brokers: KAFKA_BROKERS!, logLevel: logLevel.NOTHING }),
      logger: createLogger('silent'),
      redelivery: { initialMs: 10, maxMs: 50, jitter: 'none' },
      retry: { initialMs: 10, maxMs: 50 },
      drainMs: 2_000,
    });
    const store = createSqliteStore({ path: ':memory:' });
    await store.migrate();
    try {
      const suffix = randomUUID().slice(0, 8);
      await expectRedeliveryWrittenOnce(broker, store, `notifications-redelivered-${suffix}`, `redelivery-${suffix}`, 30_000);
    } finally {
      await broker.close();
      await store.close();
    }
  }, 60_000);
});

const KAFKA_BROKERS = kafkaBrokers.length > 0 ? [...kafkaBrokers] : undefined;

/**
 * Publishes one message of two notifications (one naming its id) to `topic`, handles it with the
 * topic handler on `store`, nacks the first delivery after its write (a consumer cut off before its
 * ack) and acks the second; then there must be exactly the two rows, under the ids the message gives.
 */
async function expectRedeliveryWrittenOnce(broker: Broker, store: Store, topic: string, groupId: string, timeoutMs: number): Promise<void> {
  const handler = notificationTopicHandler({ store, logger: createLogger('silent'), wake: () => {} });
  const deliveries: BrokerMessage[][] = [];
  const subscription = broker.consume([topic], { groupId, batchSize: 10, batchMs: 10, fromBeginning: true }).subscribe((batch) => {
    deliveries.push(batch.messages);
    void handler(batch.messages).then(() => {
      if (deliveries.length === 1) batch.nack(new Error('cut off before the ack'));
      else batch.ack();
    });
  });
  try {
    await broker.publish(topic, {
      notifications: [
        { channel: 'console', severity: 'warning', title: 'derived', message: 'no id given' },
        { channel: 'console', severity: 'warning', title: 'named', message: 'id given', id: `producer-row-${groupId}` },
      ],
    });
    const deadline = Date.now() + timeoutMs;
    while (deliveries.length < 2 || (await store.notifications.list({})).length < 2) {
      if (Date.now() > deadline) throw new Error(`timed out: ${deliveries.length} deliveries`);
      await sleep(20);
    }
    const [first, again] = deliveries;
    expect(again![0]!.offset).toBe(first![0]!.offset);
    const rows = await store.notifications.list({});
    expect(rows.map((row) => [row.title, row.id]).sort()).toEqual([
      ['derived', topicNotificationId(first![0]!, 0)],
      ['named', `producer-row-${groupId}`],
    ]);
    // Derived ids are UUIDs v7 stamped with the message's time, one per notification of the message.
    expect(topicNotificationId(first![0]!, 0)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(topicNotificationId(first![0]!, 1)).not.toBe(topicNotificationId(first![0]!, 0));
  } finally {
    subscription.unsubscribe();
  }
}
