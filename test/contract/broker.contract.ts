import { afterEach, describe, expect, it } from 'vitest';
import { BrokerError } from '../../src/errors.ts';
import type { Batch, Broker, BrokerMessage, ConsumeOptions } from '../../src/streams/broker.ts';

/** How to run the Broker contract against one adapter. */
export interface BrokerContractOptions {
  /** A fresh broker; the suite closes it after each test. */
  create: () => Promise<Broker> | Broker;
  /** Prefix of the topic and group names, unique per test so a shared broker can run suites in parallel. */
  topicPrefix?: string;
  /** How long an expected delivery may take (default 5 s; raise it for a real Kafka). */
  timeoutMs?: number;
  /** How long the suite watches to be sure that nothing more arrives (default 300 ms). */
  quietMs?: number;
}

interface Member {
  batches: Batch[];
  /** When each batch arrived (epoch ms). */
  arrivals: number[];
  completed: boolean;
  messages(): BrokerMessage[];
  stop(): void;
}

const FAST: Omit<ConsumeOptions, 'groupId'> = { batchSize: 10, batchMs: 20 };

const idOf = (message: BrokerMessage): string => `${message.topic}/${message.partition}/${message.offset}`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The Broker port's behaviour, as a describe block any adapter's test file runs. */
export function runBrokerContract(name: string, options: BrokerContractOptions): void {
  const { create, topicPrefix = 'vigil-contract', timeoutMs = 5_000, quietMs = 300 } = options;

  // A test may wait up to timeoutMs for a delivery, then more: its own limit leaves room for that.
  describe(`Broker contract: ${name}`, { timeout: Math.max(20_000, timeoutMs * 2) }, () => {
    const brokers: Broker[] = [];
    const members: Member[] = [];

    afterEach(async () => {
      for (const member of members.splice(0)) member.stop();
      await Promise.all(brokers.splice(0).map((broker) => broker.close()));
    });

    const open = async (): Promise<Broker> => {
      const broker = await create();
      brokers.push(broker);
      return broker;
    };

    const unique = (what: string): string =>
      `${topicPrefix}.${what}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

    /** Joins `groupId`; `onBatch` decides the batch's fate (ack by default). */
    const join = (
      broker: Broker,
      topics: string[],
      consume: ConsumeOptions,
      onBatch: (batch: Batch, index: number) => void = (batch) => batch.ack(),
    ): Member => {
      const member: Member = {
        batches: [],
        arrivals: [],
        completed: false,
        messages: () => member.batches.flatMap((batch) => batch.messages),
        stop: () => subscription.unsubscribe(),
      };
      const subscription = broker.consume(topics, consume).subscribe({
        next: (batch) => {
          member.batches.push(batch);
          member.arrivals.push(Date.now());
          onBatch(batch, member.batches.length - 1);
        },
        complete: () => {
          member.completed = true;
        },
      });
      members.push(member);
      return member;
    };

    const waitFor = async (condition: () => boolean, what: string): Promise<void> => {
      const deadline = Date.now() + timeoutMs;
      while (!condition()) {
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await sleep(5);
      }
    };

    const publishMany = async (broker: Broker, topic: string, count: number, keyOf: (i: number) => string | undefined) => {
      const receipts = [];
      for (let i = 0; i < count; i += 1) receipts.push(await broker.publish(topic, { seq: i }, { key: keyOf(i) }));
      return receipts;
    };

    const seqOf = (message: BrokerMessage): number => (message.value as { seq: number }).seq;

    it('delivers what was published: topic, partition, offset, key, value and timestamp', async () => {
      const broker = await open();
      const topic = unique('roundtrip');
      const before = Date.now();
      const keyed = await broker.publish(topic, { device: 'd1', value: 42.5, tags: ['a', 'b'] }, { key: 'd1' });
      const unkeyed = await broker.publish(topic, 'plain');
      const after = Date.now();
      expect(keyed).toMatchObject({ topic, partition: expect.any(Number) });
      expect(keyed.offset).toMatch(/^\d+$/);

      const member = join(broker, [topic], { groupId: unique('group'), ...FAST });
      await waitFor(() => member.messages().length >= 2, 'both messages');
      const byId = new Map(member.messages().map((message) => [idOf(message), message]));
      const first = byId.get(`${topic}/${keyed.partition}/${keyed.offset}`);
      const second = byId.get(`${topic}/${unkeyed.partition}/${unkeyed.offset}`);
      expect(first).toMatchObject({ topic, key: 'd1', value: { device: 'd1', value: 42.5, tags: ['a', 'b'] } });
      expect(second).toMatchObject({ topic, key: null, value: 'plain' });
      const timestamp = first?.timestamp ?? '';
      expect(new Date(timestamp).toISOString()).toBe(timestamp);
      // A little slack for a broker whose clock is not this process's.
      expect(Date.parse(timestamp)).toBeGreaterThanOrEqual(before - 1_000);
      expect(Date.parse(timestamp)).toBeLessThanOrEqual(after + 1_000);
    });

    it('keeps the messages of one key in order, in one partition', async () => {
      const broker = await open();
      const topic = unique('order');
      await publishMany(broker, topic, 30, (i) => `k${i % 3}`);
      const member = join(broker, [topic], { groupId: unique('group'), ...FAST });
      await waitFor(() => member.messages().length >= 30, '30 messages');
      for (const key of ['k0', 'k1', 'k2']) {
        const ofKey = member.messages().filter((message) => message.key === key);
        expect(ofKey.map(seqOf)).toEqual([...ofKey.map(seqOf)].sort((a, b) => a - b));
        expect(new Set(ofKey.map((message) => message.partition)).size).toBe(1);
        const offsets = ofKey.map((message) => BigInt(message.offset));
        offsets.slice(1).forEach((offset, i) => expect(offset > offsets[i]).toBe(true));
      }
    });

    it('gives each message to a group exactly once', async () => {
      const broker = await open();
      const topic = unique('once');
      await publishMany(broker, topic, 25, (i) => `k${i % 5}`);
      const member = join(broker, [topic], { groupId: unique('group'), batchSize: 4, batchMs: 20 });
      await waitFor(() => member.messages().length >= 25, '25 messages');
      await sleep(quietMs);
      expect(new Set(member.messages().map(idOf)).size).toBe(25);
      expect(member.messages().map(seqOf).sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    });

    it('gives every message to each of two groups', async () => {
      const broker = await open();
      const topic = unique('groups');
      await publishMany(broker, topic, 12, (i) => `k${i % 4}`);
      const first = join(broker, [topic], { groupId: unique('group-a'), ...FAST });
      const second = join(broker, [topic], { groupId: unique('group-b'), ...FAST });
      await waitFor(() => first.messages().length >= 12 && second.messages().length >= 12, '12 messages in each group');
      await sleep(quietMs);
      expect(first.messages().map(seqOf).sort((a, b) => a - b)).toEqual(second.messages().map(seqOf).sort((a, b) => a - b));
      expect(first.messages()).toHaveLength(12);
      expect(second.messages()).toHaveLength(12);
    });

    it('splits a group between its members and never gives a message to both', async () => {
      const broker = await open();
      const topic = unique('members');
      const groupId = unique('group');
      await publishMany(broker, topic, 24, (i) => `k${i % 8}`);
      const a = join(broker, [topic], { groupId, ...FAST });
      const b = join(broker, [topic], { groupId, ...FAST });
      await waitFor(() => a.messages().length + b.messages().length >= 24, '24 messages across the members');
      await sleep(quietMs);
      const ofA = new Set(a.messages().map(idOf));
      const ofB = b.messages().map(idOf);
      expect(ofB.filter((id) => ofA.has(id))).toEqual([]);
      expect(ofA.size + ofB.length).toBe(24);
    });

    it('commits on ack: a new member of the group gets only newer messages', async () => {
      const broker = await open();
      const topic = unique('commit');
      const groupId = unique('group');
      await publishMany(broker, topic, 5, () => 'k');
      const first = join(broker, [topic], { groupId, ...FAST });
      await waitFor(() => first.messages().length >= 5, '5 messages');
      await sleep(quietMs);
      first.stop();

      const second = join(broker, [topic], { groupId, ...FAST });
      await sleep(quietMs);
      await broker.publish(topic, 'fresh', { key: 'k' });
      await waitFor(() => second.messages().length >= 1, 'the fresh message');
      await sleep(quietMs);
      expect(second.messages().map((message) => message.value)).toEqual(['fresh']);
    });

    it('delivers the same offsets again after a nack', async () => {
      const broker = await open();
      const topic = unique('nack');
      await publishMany(broker, topic, 3, () => 'k');
      const member = join(broker, [topic], { groupId: unique('group'), ...FAST }, (batch, index) =>
        index === 0 ? batch.nack(new Error('handler failed')) : batch.ack(),
      );
      await waitFor(() => member.batches.length >= 2, 'a redelivery');
      const [failed, again] = member.batches;
      expect(failed.messages.map(idOf)).toHaveLength(3);
      expect(again.messages.map(idOf)).toEqual(failed.messages.map(idOf));
      expect(again.messages.map(seqOf)).toEqual([0, 1, 2]);
    });

    it('gives a batch left unacknowledged by a member that leaves to the next member', async () => {
      const broker = await open();
      const topic = unique('abandon');
      const groupId = unique('group');
      await publishMany(broker, topic, 3, () => 'k');
      const leaving = join(broker, [topic], { groupId, ...FAST }, () => undefined);
      await waitFor(() => leaving.batches.length >= 1, 'the first delivery');
      const abandoned = leaving.batches[0].messages.map(idOf);
      leaving.stop();

      const next = join(broker, [topic], { groupId, ...FAST });
      await waitFor(() => next.messages().length >= abandoned.length, 'the redelivery');
      expect(next.messages().map(idOf)).toEqual(expect.arrayContaining(abandoned));
    });

    it('closes a batch at batchSize without waiting for batchMs', async () => {
      const broker = await open();
      const topic = unique('by-count');
      await publishMany(broker, topic, 5, () => 'k');
      const member = join(broker, [topic], { groupId: unique('group'), batchSize: 2, batchMs: 60_000 });
      await waitFor(() => member.batches.length >= 2, 'two full batches');
      await sleep(quietMs);
      expect(member.batches.map((batch) => batch.messages.length)).toEqual([2, 2]);
    });

    it('closes a batch batchMs after its first message when it does not fill up', async () => {
      const broker = await open();
      const topic = unique('by-time');
      const batchMs = 300;
      const member = join(broker, [topic], { groupId: unique('group'), batchSize: 100, batchMs });
      const firstPublishedAt = Date.now();
      await publishMany(broker, topic, 3, () => 'k');
      await waitFor(() => member.batches.length >= 1, 'a batch closed by time');
      expect(member.batches[0].messages.map(seqOf)).toEqual([0, 1, 2]);
      // 10 ms of slack for timer rounding.
      expect(member.arrivals[0] - firstPublishedAt).toBeGreaterThanOrEqual(batchMs - 10);
    });

    it('delivers a topic whose batch wait is 0 as it arrives, while the other topics still wait batchMs', async () => {
      const broker = await open();
      const [fast, slow] = [unique('as-fetched'), unique('batched')];
      const batchMs = 60_000;
      const member = join(broker, [fast, slow], { groupId: unique('group'), batchSize: 100, batchMs, topicBatchMs: { [fast]: 0 } });
      await publishMany(broker, slow, 2, () => 'k');
      await publishMany(broker, fast, 1, () => 'k');
      await waitFor(() => member.batches.length >= 1, 'the batch of the topic with no wait');
      await sleep(quietMs);
      // The one message, alone (nothing held back waiting for more); the other topic's batch still waits.
      expect(member.batches.map((batch) => [batch.topic, batch.messages.map(seqOf)])).toEqual([[fast, [0]]]);
      expect(() => broker.consume([fast], { groupId: unique('group'), topicBatchMs: { [fast]: -1 } })).toThrow(/topicBatchMs\['.*'\] must be a finite number ≥ 0/);
    });

    it('after close(): consumers complete, publish rejects with BROKER_CLOSED, health is not ok', async () => {
      const broker = await open();
      const topic = unique('close');
      expect(await broker.health()).toMatchObject({ ok: true });
      const member = join(broker, [topic], { groupId: unique('group'), ...FAST });
      await broker.close();
      await waitFor(() => member.completed, 'the consumer to complete');

      const rejection = broker.publish(topic, 'late');
      await expect(rejection).rejects.toBeInstanceOf(BrokerError);
      await expect(rejection).rejects.toMatchObject({ code: 'BROKER_CLOSED' });
      const late = join(broker, [topic], { groupId: unique('group'), ...FAST });
      await waitFor(() => late.completed, 'a consumer opened after close to complete');
      expect((await broker.health()).ok).toBe(false);
    });
  });
}
