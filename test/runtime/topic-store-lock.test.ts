import type Database from 'better-sqlite3';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/create-runtime.ts';
import { deadLetterTopic, TOPICS, type BrokerMessage } from '../../src/streams/broker.ts';
import type { Store } from '../../src/storage/store.ts';
import { createLogger } from '../../src/runtime/logger.ts';
import { storeWithRival } from '../support/held-lock.ts';

// Messages of the broker topics Vigil consumes meet a store that another process holds locked (a
// `vigil rules apply`, say) for longer than SQLite's 50 ms busy wait. They used to be dead-lettered
// and acknowledged: a notification never reached the outbox, and a readings batch was acknowledged
// before it was stored. Now the store is waited out, or the batch delivered again. The runtime is
// the default wiring (in-process broker) on a SQLite file; a second connection holds the lock.

let store: Store;
let other: Database.Database;
let close: () => Promise<void>;
let runtime: Runtime;
let deadLettered: BrokerMessage[];
let unsubscribe: () => void;
let logged: Array<{ msg: string; [field: string]: unknown }>;

beforeEach(async () => {
  ({ store, other, close } = await storeWithRival('vigil-topic-lock-'));
  logged = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logged.push(JSON.parse(line) as (typeof logged)[number]);
      done();
    },
  });
  const logger = createLogger('warn', sink);
  runtime = createRuntime({ inheritEnv: false, store, logger, env: { BATCH_WAIT_MS: '20', PUBLISH_INTERVAL_SECONDS: '3600' } });
  await runtime.start({ listen: false });
  deadLettered = [];
  const topics = [TOPICS.notifications, TOPICS.deviceReadings].map(deadLetterTopic);
  const subscription = runtime.broker.consume(topics, { groupId: 'dead-letters', batchMs: 0 }).subscribe((batch) => {
    deadLettered.push(...batch.messages);
    batch.ack();
  });
  unsubscribe = () => subscription.unsubscribe();
});

afterEach(async () => {
  unsubscribe();
  if (other.inTransaction) other.exec('COMMIT');
  await runtime.stop();
  await close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually<T>(read: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** Holds the write lock for `ms` while `publish` runs, then lets go. */
async function underLock(ms: number, publish: () => Promise<unknown>): Promise<void> {
  other.exec('BEGIN IMMEDIATE');
  await publish();
  await sleep(ms);
  other.exec('COMMIT');
}

describe('a broker batch meeting a store held by another process', () => {
  it('a notification message reaches the outbox once the lock goes, and is sent; nothing is dead-lettered', async () => {
    await underLock(1_000, () => runtime.broker.publish(TOPICS.notifications, { channel: 'console', severity: 'critical', title: 'disk full', message: 'sda1 at 99 %' }));
    const row = await eventually(async () => (await store.notifications.list({})).find((n) => n.title === 'disk full' && n.status === 'sent'), 'the notification sent');
    expect(row.channel).toBe('console');
    expect(deadLettered).toEqual([]);
    // The wait is logged, naming the topic, so an operator sees why the batch is late.
    const retries = logged.filter((line) => line.msg === 'notifications topic: the outbox could not take a batch; retrying');
    expect(retries.length).toBeGreaterThan(0);
    expect(retries[0]).toMatchObject({ topic: TOPICS.notifications, notifications: 1, attempt: 1 });
  });

  it('a readings batch is stored with the alert event it caused once the lock goes, and nothing is dead-lettered', async () => {
    await runtime.rules.create({ id: 'hot', name: 'hot', device_id: 'd1', metric: 'temp', operator: '>', threshold: 50 });
    await underLock(1_000, () => runtime.broker.publish(TOPICS.deviceReadings, { device_id: 'd1', metric: 'temp', value: 60 }, { key: 'd1' }));
    const [event] = await eventually(async () => {
      const events = await store.alerts.list({ alert_id: 'hot' });
      return events.length > 0 ? events : undefined;
    }, 'the alert event');
    expect(event).toMatchObject({ alert_id: 'hot', current_value: 60, is_resolved: false });
    expect((await store.readings.latestAll()).map((r) => [r.device_id, r.value])).toEqual([['d1', 60]]);
    // Long enough for a dead-lettered batch to have shown up (the consumer waits 20 ms for a batch).
    await sleep(300);
    expect(deadLettered).toEqual([]);
  });
});
