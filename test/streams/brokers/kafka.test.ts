import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { Kafka, logLevel, Partitioners, type Admin } from 'kafkajs';
import { type Subscription } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/runtime/logger.ts';
import type { Batch, BrokerMessage } from '../../../src/streams/broker.ts';
import { createKafkaBroker, type KafkaBroker, type KafkaBrokerOptions } from '../../../src/streams/brokers/kafka.ts';
import { kafkaBrokers, skippedWithoutKafka } from '../../support/kafka.ts';

const brokers = [...kafkaBrokers];
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const waitFor = async (condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
};
const seq = (message: BrokerMessage): number => (message.value as { seq: number }).seq;
const unique = (what: string): string => `vigil-adapter.${what}.${randomUUID().slice(0, 8)}`;

if (brokers.length === 0) {
  skippedWithoutKafka('kafka adapter on a real broker', 'commits after ack, redelivers after nack, dead-letters, hands partitions over');
} else {
  describe(`kafka adapter on the real broker at ${brokers.join(',')}`, { timeout: 60_000 }, () => {
    const client = new Kafka({ clientId: 'vigil-adapter-test', brokers, logLevel: logLevel.NOTHING });
    const opened: KafkaBroker[] = [];
    const subscriptions: Subscription[] = [];
    let admin: Admin;

    beforeAll(async () => {
      admin = client.admin();
      await admin.connect();
    });
    afterAll(() => admin.disconnect());
    afterEach(async () => {
      for (const subscription of subscriptions.splice(0)) subscription.unsubscribe();
      await Promise.all(opened.splice(0).map((broker) => broker.close()));
    });

    /** A broker on the real cluster, with its log lines kept for assertions. */
    const open = (options: Partial<KafkaBrokerOptions> = {}) => {
      const lines: Array<Record<string, unknown>> = [];
      const sink = new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
          done();
        },
      });
      const broker = createKafkaBroker({
        kafka: client,
        logger: createLogger('debug', sink),
        retry: { initialMs: 10, maxMs: 50 },
        redelivery: { initialMs: 10, maxMs: 50, jitter: 'none' },
        drainMs: 2_000,
        ...options,
      });
      opened.push(broker);
      return { broker, logged: (msg: string) => lines.filter((line) => line.msg === msg) };
    };

    /** Consumes `topic` in `groupId`; `onBatch` decides each batch's fate (kept unsettled by default). */
    const consume = (broker: KafkaBroker, topic: string, groupId: string, options: { batchSize?: number } = {}, onBatch: (batch: Batch) => void = () => undefined) => {
      const batches: Batch[] = [];
      const subscription = broker.consume([topic], { groupId, batchSize: options.batchSize ?? 10, batchMs: 0 }).subscribe({
        next: (batch) => {
          batches.push(batch);
          onBatch(batch);
        },
      });
      subscriptions.push(subscription);
      return { batches, subscription };
    };

    const publish = async (broker: KafkaBroker, topic: string, count: number, key = 'k') => {
      for (let i = 0; i < count; i += 1) await broker.publish(topic, { seq: i }, { key });
    };

    /** The offset `groupId` committed on partition 0 of `topic` ('-1' for none). */
    const committed = async (groupId: string, topic: string): Promise<string> => {
      // A group that has not joined yet is unknown to the broker: nothing committed.
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] }).catch(() => [undefined]);
      return offsets?.partitions.find((each) => each.partition === 0)?.offset ?? '-1';
    };

    /** A one-partition topic, so that offsets and batches are predictable. */
    const topicOfOne = async (what: string): Promise<string> => {
      const topic = unique(what);
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
      return topic;
    };

    it('commits a batch only after its ack, at the offset after its last message', async () => {
      const { broker } = open();
      const [topic, group] = [await topicOfOne('commit'), unique('group')];
      await publish(broker, topic, 3);
      const { batches } = consume(broker, topic, group);
      await waitFor(() => batches.reduce((n, batch) => n + batch.messages.length, 0) >= 3 || batches.length === 1, 'a batch');
      await sleep(300);
      expect(batches).toHaveLength(1);
      expect(await committed(group, topic)).toBe('-1');
      const last = batches[0]!.messages.at(-1)!.offset;
      batches[0]!.ack();
      await waitFor(async () => (await committed(group, topic)) === String(Number(last) + 1), 'the commit');
    });

    it('delivers nothing more of a partition while its batch is unacknowledged, and the same offsets again after a nack', async () => {
      const { broker } = open();
      const [topic, group] = [await topicOfOne('nack'), unique('group')];
      await publish(broker, topic, 2);
      const { batches } = consume(broker, topic, group, { batchSize: 2 });
      await waitFor(() => batches.length === 1, 'a batch');
      await publish(broker, topic, 2);
      await sleep(500);
      expect(batches).toHaveLength(1);
      batches[0]!.nack(new Error('store down'));
      await waitFor(() => batches.length === 2, 'the redelivery');
      expect(batches[1]!.messages.map((m) => m.offset)).toEqual(['0', '1']);
      batches[1]!.ack();
      await waitFor(() => batches.length === 3, 'the next batch');
      expect(batches[2]!.messages.map((m) => m.offset)).toEqual(['2', '3']);
    });

    it('isolates a batch that keeps failing and dead-letters only the poison message, with its error and offset; consumption goes on', async () => {
      const { broker, logged } = open({ maxDeliveries: 3 });
      const [topic, group] = [await topicOfOne('poison'), unique('group')];
      await publish(broker, topic, 3);
      const acked: number[] = [];
      const { batches } = consume(broker, topic, group, {}, (batch) => {
        if (batch.messages.some((m) => seq(m) === 1)) return batch.nack(new Error('cannot parse seq 1'));
        acked.push(...batch.messages.map(seq));
        batch.ack();
      });
      await waitFor(async () => (await committed(group, topic)) === '3', 'the partition to move past the poison message');
      const dead = consume(broker, `${topic}.dlq`, unique('dlq-reader'), {}, (batch) => batch.ack());
      await waitFor(() => dead.batches.length > 0, 'the dead letter');
      const letters = dead.batches.flatMap((batch) => batch.messages);
      expect(letters).toHaveLength(1);
      expect(letters[0]).toMatchObject({ key: 'k', value: { error: 'cannot parse seq 1', deliveries: 3, original: { topic, partition: 0, offset: '1', value: { seq: 1 } } } });
      // Isolated one at a time after 3 failures of the whole batch: 0 and 2 handled, 1 dead-lettered.
      expect(acked).toEqual([0, 2]);
      expect(logged('message dead-lettered after repeated failures')).toHaveLength(1);
      await broker.publish(topic, { seq: 3 }, { key: 'k' });
      await waitFor(() => batches.at(-1)?.messages.some((m) => seq(m) === 3) === true, 'a later message');
    });

    it('reads a value that is not JSON as its text, and a message without key with key null', async () => {
      const { broker } = open();
      const [topic, group] = [await topicOfOne('raw'), unique('group')];
      const producer = client.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      await producer.send({ topic, messages: [{ value: 'not json {' }] });
      await producer.disconnect();
      const { batches } = consume(broker, topic, group, {}, (batch) => batch.ack());
      await waitFor(() => batches.length === 1, 'a batch');
      expect(batches[0]!.messages[0]).toMatchObject({ value: 'not json {', key: null, offset: '0' });
    });

    it('reports assignments after every rebalance; a partition moves to a new member, which resumes after the committed offset', async () => {
      const first = open();
      const second = open();
      const topic = unique('moves');
      await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
      const group = unique('group');
      const owned: number[][] = [];
      subscriptions.push(first.broker.assignments(topic).subscribe((partitions) => owned.push(partitions)));
      const keys = ['d1', 'd2', 'd3', 'd4', 'd5'];
      const byPartition = new Map<number, string>();
      for (const key of keys) byPartition.set(await first.broker.partitionOf(topic, key), key);
      expect(byPartition.size).toBe(2);
      for (const key of byPartition.values()) await first.broker.publish(topic, { seq: 0 }, { key });
      const a = consume(first.broker, topic, group, {}, (batch) => batch.ack());
      await waitFor(() => a.batches.length === 2, 'both partitions at the first member');
      expect(owned.at(-1)).toEqual([0, 1]);

      const b = consume(second.broker, topic, group, {}, (batch) => batch.ack());
      await waitFor(() => owned.at(-1)?.length === 1, 'the rebalance', 30_000);
      const moved = [0, 1].find((partition) => !owned.at(-1)!.includes(partition))!;
      await first.broker.publish(topic, { seq: 1 }, { key: byPartition.get(moved)! });
      await waitFor(() => b.batches.length === 1, 'the moved partition at the second member', 30_000);
      expect(b.batches[0]!.partition).toBe(moved);
      expect(b.batches[0]!.messages.map(seq)).toEqual([1]);
      expect(first.logged('kafka partitions assigned').length).toBeGreaterThanOrEqual(2);
    }, 60_000);

    it('on stop, waits for the batch in flight and commits its ack before leaving the group', async () => {
      const { broker } = open();
      const [topic, group] = [await topicOfOne('stop'), unique('group')];
      await publish(broker, topic, 2);
      const { batches, subscription } = consume(broker, topic, group, { batchSize: 2 });
      await waitFor(() => batches.length === 1, 'a batch');
      subscription.unsubscribe();
      await sleep(100);
      batches[0]!.ack();
      await waitFor(async () => (await committed(group, topic)) === '2', 'the commit of the batch in flight');
    });

    it('tells which partition a key lands in, as the producer places it', async () => {
      const { broker } = open();
      const topic = unique('placement');
      await admin.createTopics({ topics: [{ topic, numPartitions: 6 }], waitForLeaders: true });
      for (const device of ['d1', 'sensor-42', 'pump/7', 'ünïcode']) {
        const receipt = await broker.publish(topic, { device }, { key: device });
        expect(await broker.partitionOf(topic, device)).toBe(receipt.partition);
      }
    });
  });
}
