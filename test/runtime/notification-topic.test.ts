import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/runtime.ts';
import { ActorRegistry } from '../../src/runtime/registry.ts';
import { notificationTopicHandler, topicNotificationId } from '../../src/runtime/notification-topic.ts';
import { deadLetterTopic, TOPICS, type BrokerMessage } from '../../src/streams/broker.ts';

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
    const handler = notificationTopicHandler({ store: runtime.store, registry: new ActorRegistry() });
    const topic = 'notifications-redelivered';
    const deliveries: BrokerMessage[][] = [];
    const subscription = runtime.broker.consume([topic], { groupId: 'redelivery', batchSize: 10, batchMs: 10 }).subscribe((batch) => {
      deliveries.push(batch.messages);
      void handler(batch.messages).then(() => {
        // The first delivery dies between its write and its ack: the broker hands the batch over again.
        if (deliveries.length === 1) batch.nack(new Error('cut off before the ack'));
        else batch.ack();
      });
    });
    try {
      await runtime.broker.publish(topic, {
        notifications: [
          { channel: 'console', severity: 'warning', title: 'derived', message: 'no id given' },
          { channel: 'console', severity: 'warning', title: 'named', message: 'id given', id: 'producer-row-1' },
        ],
      });
      await eventually(async () => deliveries.length, (n) => n >= 2, 'the redelivery');
      await eventually(() => runtime.store.notifications.list({}), (rows) => rows.length >= 2, 'the rows');
      const [first, again] = deliveries;
      expect(again![0]!.offset).toBe(first![0]!.offset);
      const rows = await runtime.store.notifications.list({});
      expect(rows.map((row) => [row.title, row.id]).sort()).toEqual([
        ['derived', topicNotificationId(first![0]!, 0)],
        ['named', 'producer-row-1'],
      ]);
      // Derived ids are UUIDs v7 stamped with the message's time.
      expect(topicNotificationId(first![0]!, 0)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(topicNotificationId(first![0]!, 1)).not.toBe(topicNotificationId(first![0]!, 0));
    } finally {
      subscription.unsubscribe();
    }
  });
});
