import { Subject } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/runtime/logger.ts';
import { ruleChangeFeed, type RuleChangeFeed } from '../../../src/runtime/alerts/rule-changes.ts';
import { TOPICS, type Broker } from '../../../src/streams/broker.ts';
import { createMemoryBroker } from '../../../src/streams/brokers/memory.ts';

const logger = createLogger('silent');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

describe('rule change feed', () => {
  const feeds: RuleChangeFeed[] = [];
  const brokers: Broker[] = [];
  afterEach(async () => {
    for (const feed of feeds.splice(0)) feed.stop();
    await Promise.all(brokers.splice(0).map((broker) => broker.close()));
  });
  const open = (broker: Broker): RuleChangeFeed => {
    const feed = ruleChangeFeed({ broker, groupId: 'vigil', logger });
    feeds.push(feed);
    return feed;
  };
  const memory = (): Broker => {
    const broker = createMemoryBroker({ partitions: 4, redelivery: { initialMs: 5, maxMs: 10, jitter: 'none' } });
    brokers.push(broker);
    return broker;
  };

  it('gives every change to every instance (each reads in a group of its own), in order per device, keyed by device', async () => {
    const broker = memory();
    const [a, b] = [open(broker), open(broker)];
    const raw: Array<{ key: string | null; value: unknown }> = [];
    const reader = broker.consume([TOPICS.ruleChanges], { groupId: 'reader', batchMs: 0 }).subscribe((batch) => {
      raw.push(...batch.messages.map(({ key, value }) => ({ key, value })));
      batch.ack();
    });
    const seenA: string[] = [];
    const seenB: string[] = [];
    const reconcile = async () => undefined;
    a.start({ refresh: async (id) => void seenA.push(id), reconcile });
    b.start({ refresh: async (id) => void seenB.push(id), reconcile });
    for (const id of ['r1', 'r2', 'r3']) await a.publish({ id, device_id: 'gw-1' });
    await b.publish({ id: 'r4', device_id: 'gw-2' });
    await until(() => seenA.length === 4 && seenB.length === 4, 'both instances to see every change');
    expect(seenA.filter((id) => id !== 'r4')).toEqual(['r1', 'r2', 'r3']);
    expect([...seenB].sort()).toEqual(['r1', 'r2', 'r3', 'r4']);
    await until(() => raw.length === 4, 'the messages as published');
    reader.unsubscribe();
    expect(raw).toContainEqual({ key: 'gw-2', value: { rule_id: 'r4', device_id: 'gw-2' } });
    expect(raw.filter((message) => message.key === 'gw-1')).toHaveLength(3);
  });

  it('delivers a change again when applying it failed (the store was down), and ignores a message without rule_id', async () => {
    const broker = memory();
    const feed = open(broker);
    const calls: string[] = [];
    feed.start({
      refresh: async (id) => {
        calls.push(id);
        if (calls.length === 1) throw new Error('store down');
      },
      reconcile: async () => undefined,
    });
    await broker.publish(TOPICS.ruleChanges, { something: 'else' }, { key: 'gw-1' });
    await feed.publish({ id: 'r1', device_id: 'gw-1' });
    await until(() => calls.length === 2, 'the redelivery');
    expect(calls).toEqual(['r1', 'r1']);
  });

  it('reconciles every rule once, when its partitions of the feed are first assigned (a change made while joining is not missed)', async () => {
    // The in-process broker reports no assignments: a Subject stands for the Kafka adapter's.
    const assigned = new Subject<number[]>();
    const feed = open({ ...memory(), assignments: () => assigned.asObservable() });
    let reconciled = 0;
    feed.start({ refresh: async () => undefined, reconcile: async () => void reconciled++ });
    assigned.next([]);
    await sleep(10);
    expect(reconciled).toBe(0);
    assigned.next([0, 1]);
    assigned.next([2]);
    await until(() => reconciled === 1, 'the reconciliation');
    await sleep(20);
    expect(reconciled).toBe(1);
  });

  it('does not throw when the change cannot be published (the interval reconciliation catches up)', async () => {
    const broker = memory();
    const feed = open(broker);
    await broker.close();
    await expect(feed.publish({ id: 'r1', device_id: 'gw-1' })).resolves.toBeUndefined();
  });
});
