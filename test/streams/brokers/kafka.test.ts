import { Writable } from 'node:stream';
import { firstValueFrom, filter, type Subscription } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { BrokerError } from '../../../src/errors.ts';
import { createLogger } from '../../../src/runtime/logger.ts';
import type { RunOutcome } from '../../../src/runtime/run-reporter.ts';
import type { Batch, BrokerMessage } from '../../../src/streams/broker.ts';
import { createKafkaBroker, type KafkaBroker, type KafkaBrokerOptions } from '../../../src/streams/brokers/kafka.ts';
import { KAFKA_CONSUMER_PLUGIN } from '../../../src/streams/brokers/kafka-member.ts';
import { createFakeKafka, type FakeKafka } from './fake-kafka.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const waitFor = async (condition: () => boolean, what: string, timeoutMs = 3_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
};
const seq = (message: BrokerMessage): number => (message.value as { seq: number }).seq;

describe('kafka broker (on a fake kafkajs cluster)', () => {
  const opened: KafkaBroker[] = [];
  const subscriptions: Subscription[] = [];

  afterEach(async () => {
    for (const subscription of subscriptions.splice(0)) subscription.unsubscribe();
    await Promise.all(opened.splice(0).map((broker) => broker.close()));
  });

  /** A broker on `kafka`, with its log lines and run reports kept for assertions. */
  const open = (kafka: FakeKafka, options: Partial<KafkaBrokerOptions> = {}) => {
    const lines: Array<Record<string, unknown>> = [];
    const runs: Array<{ plugin: string; outcome: RunOutcome }> = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const broker = createKafkaBroker({
      kafka,
      logger: createLogger('debug', sink),
      runs: { report: (plugin, outcome) => runs.push({ plugin, outcome }) },
      retry: { initialMs: 5, maxMs: 20, maxRetries: 5 },
      redelivery: { initialMs: 5, maxMs: 20, jitter: 'none' },
      drainMs: 200,
      ...options,
    });
    opened.push(broker);
    return { broker, lines, runs, logged: (msg: string) => lines.filter((line) => line.msg === msg) };
  };

  /** Consumes `topic`; `onBatch` decides each batch's fate (kept unsettled by default). */
  const consume = (broker: KafkaBroker, topic: string, options: { groupId?: string; batchSize?: number; batchMs?: number } = {}, onBatch: (batch: Batch) => void = () => undefined) => {
    const batches: Batch[] = [];
    const errors: unknown[] = [];
    const subscription = broker
      .consume([topic], { groupId: options.groupId ?? 'g', batchSize: options.batchSize ?? 10, batchMs: options.batchMs ?? 10 })
      .subscribe({
        next: (batch) => {
          batches.push(batch);
          onBatch(batch);
        },
        error: (error: unknown) => errors.push(error),
      });
    subscriptions.push(subscription);
    return { batches, errors, subscription };
  };

  const publish = async (broker: KafkaBroker, topic: string, count: number, key = 'k') => {
    for (let i = 0; i < count; i += 1) await broker.publish(topic, { seq: i }, { key });
  };

  it('commits a batch only after its ack, at the offset after its last message', async () => {
    const kafka = createFakeKafka({ partitions: 1 });
    const { broker } = open(kafka);
    await publish(broker, 't', 3);
    const { batches } = consume(broker, 't');
    await waitFor(() => batches.length === 1, 'a batch');
    await sleep(30);
    expect(kafka.committed('g', 't', 0)).toBe('0');
    expect(kafka.commits).toEqual([]);
    batches[0].ack();
    await waitFor(() => kafka.commits.length === 1, 'the commit');
    expect(kafka.committed('g', 't', 0)).toBe('3');
  });

  it('delivers nothing more of a partition while its batch is unacknowledged, and the same offsets again after a nack', async () => {
    const kafka = createFakeKafka({ partitions: 1 });
    const { broker } = open(kafka);
    await publish(broker, 't', 2);
    const { batches } = consume(broker, 't', { batchSize: 2 });
    await waitFor(() => batches.length === 1, 'a batch');
    await publish(broker, 't', 2);
    await sleep(50);
    expect(batches).toHaveLength(1);
    batches[0].nack(new Error('store down'));
    await waitFor(() => batches.length === 2, 'the redelivery');
    expect(batches[1].messages.map((m) => m.offset)).toEqual(['0', '1']);
    expect(kafka.commits).toEqual([]);
    batches[1].ack();
    await waitFor(() => batches.length === 3, 'the next batch');
    expect(batches[2].messages.map((m) => m.offset)).toEqual(['2', '3']);
  });

  it('isolates a batch that keeps failing and dead-letters only the poison message, with its error and offset; consumption goes on', async () => {
    const kafka = createFakeKafka({ partitions: 1 });
    const { broker, logged } = open(kafka, { maxDeliveries: 3 });
    await publish(broker, 't', 3);
    const { batches } = consume(broker, 't', {}, (batch) =>
      batch.messages.some((m) => seq(m) === 1) ? batch.nack(new Error('cannot parse seq 1')) : batch.ack(),
    );
    await waitFor(() => kafka.committed('g', 't', 0) === '3', 'the partition to move past the poison message', 5_000);
    const [dead] = kafka.messages('t.dlq');
    expect(kafka.messages('t.dlq')).toHaveLength(1);
    expect(dead.value).toMatchObject({ error: 'cannot parse seq 1', deliveries: 3, original: { topic: 't', partition: 0, offset: '1', value: { seq: 1 } } });
    expect(dead.key).toBe('k');
    // 3 failed deliveries of the whole batch, then one at a time: 0 ok, 1 failing 3 times, 2 ok.
    expect(batches.map((batch) => batch.messages.map(seq))).toEqual([[0, 1, 2], [0, 1, 2], [0, 1, 2], [0], [1], [1], [1], [2]]);
    expect(logged('message dead-lettered after repeated failures')).toHaveLength(1);

    await broker.publish('t', { seq: 3 }, { key: 'k' });
    await waitFor(() => batches.length === 9, 'a later message');
    expect(batches[8].messages.map(seq)).toEqual([3]);
  });

  it('pauses a partition whose queue is full while its batch waits, and resumes it after the ack', async () => {
    const kafka = createFakeKafka({ partitions: 1, fetchMax: 2 });
    const { broker } = open(kafka, { maxQueuedBatches: 1 });
    await publish(broker, 't', 10);
    const { batches } = consume(broker, 't', { batchSize: 2 });
    await waitFor(() => batches.length === 1, 'a batch');
    const [consumer] = kafka.consumers;
    const resumed: unknown[] = [];
    const resume = consumer.resume.bind(consumer);
    consumer.resume = (topics) => {
      resumed.push(topics);
      resume(topics);
    };
    await waitFor(() => consumer.paused.has('t/0'), 'the pause');
    await sleep(30);
    expect(batches).toHaveLength(1);
    batches[0].ack();
    await waitFor(() => batches.length === 2, 'the next batch');
    expect(resumed[0]).toEqual([{ topic: 't', partitions: [0] }]);
  });

  it('calls heartbeat() for every fetched batch and reads a non-JSON value as its text', async () => {
    const kafka = createFakeKafka({ partitions: 1 });
    const { broker } = open(kafka);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 't', messages: [{ key: null, value: 'not json {' }] });
    const { batches } = consume(broker, 't', {}, (batch) => batch.ack());
    await waitFor(() => batches.length === 1, 'a batch');
    expect(batches[0].messages[0]).toMatchObject({ value: 'not json {', key: null, offset: '0' });
    expect(kafka.consumers[0].heartbeats).toBeGreaterThan(0);
  });

  it('retries connecting with backoff, logging each attempt, and is not ready until connected', async () => {
    const kafka = createFakeKafka({ partitions: 1 });
    kafka.failures.producerConnect = 2;
    kafka.failures.consumerConnect = 3;
    const { broker, logged, runs } = open(kafka, { retry: { initialMs: 40, maxMs: 40, maxRetries: 5 }, healthWaitMs: 1 });
    expect((await broker.health()).ok).toBe(false);
    consume(broker, 't');
    await waitFor(() => logged('kafka consumer running').length === 1 && logged('kafka producer connected').length === 1, 'the consumer and the producer');
    expect(logged('kafka producer connect failed; retrying')).toHaveLength(2);
    expect(logged('kafka consumer connecting').map((line) => line.attempt)).toEqual([1, 2, 3, 4]);
    expect(runs.filter((run) => run.plugin === KAFKA_CONSUMER_PLUGIN && !run.outcome.ok)).toHaveLength(3);
    expect(await broker.health()).toEqual({ ok: true });
  });

  it('gives up after maxRetries: the consumer errors with KAFKA_CONSUMER_STOPPED, is reported failing and health says why', async () => {
    const kafka = createFakeKafka({ partitions: 1 });
    kafka.failures.consumerConnect = 100;
    const { broker, runs, logged } = open(kafka, { retry: { initialMs: 1, maxMs: 2, maxRetries: 2 } });
    const { errors } = consume(broker, 't');
    await waitFor(() => errors.length === 1, 'the consumer to give up');
    expect(errors[0]).toBeInstanceOf(BrokerError);
    expect(errors[0]).toMatchObject({ code: 'KAFKA_CONSUMER_STOPPED' });
    expect(runs.at(-1)).toMatchObject({ plugin: KAFKA_CONSUMER_PLUGIN, outcome: { ok: false, error: expect.stringMatching(/gave up.*ECONNREFUSED/) } });
    expect(logged('kafka consumer gave up connecting; consumption stopped')).toHaveLength(1);
    expect(await broker.health()).toMatchObject({ ok: false, detail: expect.stringMatching(/gave up.*ECONNREFUSED/) });
  });

  it('restarts a consumer kafkajs stopped after a crash, reporting the crash, and consumes on', async () => {
    const kafka = createFakeKafka({ partitions: 1 });
    const { broker, runs, logged } = open(kafka);
    const { batches } = consume(broker, 't', {}, (batch) => batch.ack());
    await waitFor(() => kafka.consumers[0]?.running === true, 'the consumer to run');
    await kafka.crash(kafka.consumers[0], new Error('The coordinator is not aware of this member'), false);
    expect(runs).toContainEqual({ plugin: KAFKA_CONSUMER_PLUGIN, outcome: { ok: false, error: 'consumer crashed: The coordinator is not aware of this member' } });
    await waitFor(() => kafka.consumers[1]?.running === true, 'a new consumer');
    expect(logged('kafka consumer crashed and stopped; restarting it')).toHaveLength(1);
    await publish(broker, 't', 1);
    await waitFor(() => batches.length === 1, 'a batch after the restart');
    expect(runs.at(-1)).toEqual({ plugin: KAFKA_CONSUMER_PLUGIN, outcome: { ok: true } });
  });

  it('leaves a crash kafkajs restarts itself to kafkajs, but reports it', async () => {
    const kafka = createFakeKafka({ partitions: 1 });
    const { broker, runs } = open(kafka);
    consume(broker, 't');
    await waitFor(() => kafka.consumers[0]?.running === true, 'the consumer to run');
    await kafka.crash(kafka.consumers[0], new Error('Request timed out'), true);
    await sleep(30);
    expect(kafka.consumers).toHaveLength(1);
    expect(runs.at(-1)).toMatchObject({ outcome: { ok: false, error: 'consumer crashed: Request timed out' } });
  });

  it('reports assignments after every rebalance; a revoked partition commits nothing more and its messages go to the new owner', async () => {
    const kafka = createFakeKafka({ partitions: 2 });
    const first = open(kafka);
    const second = open(kafka);
    const owned: number[][] = [];
    subscriptions.push(first.broker.assignments('t').subscribe((partitions) => owned.push(partitions)));
    // Keys of both partitions, as kafkajs's partitioner places them.
    await first.broker.publish('t', { seq: 0 }, { key: 'd1' });
    await first.broker.publish('t', { seq: 1 }, { key: 'd2' });
    expect(new Set(kafka.messages('t').map((message) => message.partition)).size).toBe(2);
    const a = consume(first.broker, 't');
    await waitFor(() => a.batches.length === 2, 'both partitions at the first member');
    expect(owned.at(-1)).toEqual([0, 1]);

    const b = consume(second.broker, 't', {}, (batch) => batch.ack());
    await waitFor(() => owned.at(-1)?.length === 1, 'the rebalance');
    const moved = [0, 1].find((partition) => !owned.at(-1)?.includes(partition));
    const revoked = a.batches.find((batch) => batch.partition === moved);
    revoked?.ack();
    await waitFor(() => b.batches.length === 1, 'the moved partition at the second member');
    expect(b.batches[0].partition).toBe(moved);
    expect(kafka.commits.filter((commit) => commit.partition === moved).map((commit) => commit.offset)).toEqual(['1']);
    expect(first.logged('kafka partitions assigned').length).toBeGreaterThanOrEqual(2);
  });

  it('on stop, waits for the batch in flight and commits its ack before leaving the group', async () => {
    const kafka = createFakeKafka({ partitions: 1 });
    const { broker } = open(kafka);
    await publish(broker, 't', 2);
    const { batches, subscription } = consume(broker, 't');
    await waitFor(() => batches.length === 1, 'a batch');
    subscription.unsubscribe();
    await sleep(20);
    expect(kafka.consumers[0].running).toBe(true);
    batches[0].ack();
    await waitFor(() => !kafka.consumers[0].running, 'the consumer to leave');
    expect(kafka.committed('g', 't', 0)).toBe('2');
  });

  it('rejects a failed publish with a BrokerError that keeps kafkajs retriable flag', async () => {
    const kafka = createFakeKafka({ partitions: 1 });
    const { broker } = open(kafka);
    kafka.failures.send = 1;
    const rejection = broker.publish('t', { seq: 0 });
    await expect(rejection).rejects.toBeInstanceOf(BrokerError);
    await expect(rejection).rejects.toMatchObject({ code: 'KAFKA_PUBLISH_FAILED', retriable: true });
    await expect(broker.publish('t', undefined)).rejects.toMatchObject({ code: 'BROKER_INVALID_MESSAGE' });
  });

  it('tells which partition a key lands in, as the producer places it', async () => {
    const kafka = createFakeKafka({ partitions: 6 });
    const { broker } = open(kafka);
    for (const device of ['d1', 'sensor-42', 'pump/7', 'ünïcode']) {
      const receipt = await broker.publish('readings', { device }, { key: device });
      expect(await broker.partitionOf('readings', device)).toBe(receipt.partition);
    }
    expect(await firstValueFrom(broker.assignments('readings').pipe(filter(() => true)))).toEqual([]);
  });
});
