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

/**
 * Faults a real broker cannot be made to produce on demand, on a kafkajs-shaped fake cluster
 * (test/streams/brokers/kafka.test.ts runs everything else on a real broker). Each test names its fault.
 */
describe('kafka broker faults (on a fake kafkajs cluster)', () => {
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

  // Fault: a consumer far behind its fetches. The fetch size is pinned to 2 messages and the pause
  // and resume calls observed, neither of which a real broker lets a test do.
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

  // Fault: connections refused a set number of times, then accepted (a real broker is up or down).
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

  // Fault: a broker refusing every connection while the test's shared broker stays up for the others.
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

  // Fault: kafkajs stopping a consumer after an error it does not retry (no broker provokes that on demand).
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

  // Fault: a retriable consumer crash (a request timing out inside kafkajs).
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

  // Fault: the broker rejecting a produce request with a retriable error.
  it('rejects a failed publish with a BrokerError that keeps kafkajs retriable flag', async () => {
    const kafka = createFakeKafka({ partitions: 1 });
    const { broker } = open(kafka);
    kafka.failures.send = 1;
    const rejection = broker.publish('t', { seq: 0 });
    await expect(rejection).rejects.toBeInstanceOf(BrokerError);
    await expect(rejection).rejects.toMatchObject({ code: 'KAFKA_PUBLISH_FAILED', retriable: true });
    await expect(broker.publish('t', undefined)).rejects.toMatchObject({ code: 'BROKER_INVALID_MESSAGE' });
  });
});
