import { describe, expect, it } from 'vitest';
import type { Reading } from '../../../src/domain/reading.ts';
import { createLogger } from '../../../src/runtime/logger.ts';
import { createAlertWriter, type AlertWrite, type WriteOutcome } from '../../../src/runtime/alerts/alert-writer.ts';
import { createSqliteStore } from '../../../src/storage/sqlite/index.ts';
import type { Store } from '../../../src/storage/store.ts';
import { fakeAlertStore, rule } from './fake-alert-store.ts';

const logger = createLogger('silent');
const quick = { initialMs: 1, maxMs: 2 };
const fire = (ruleId: string, value: number, at = value * 1000): AlertWrite => ({ kind: 'fire', rule: rule(ruleId), value, at });
const resolve = (ruleId: string, value: number, at = value * 1000): AlertWrite => ({ kind: 'resolve', rule: rule(ruleId), value, at });
const reading = (value: number): Reading => ({ device_id: 'device-1', metric: 'cpu', value, ts: new Date(value * 1000).toISOString() });

/** A writer over `store` recording every outcome it reports. */
function recordingWriter(store: Pick<Store, 'alerts'>, options: { maxBatch?: number } = {}) {
  const outcomes: WriteOutcome[] = [];
  const writer = createAlertWriter({ store, logger, backoff: quick, onWritten: (outcome) => outcomes.push(outcome), ...options });
  return { writer, outcomes };
}

describe('createAlertWriter', () => {
  it('commits every unit in push order, whatever the store latencies', async () => {
    const fake = fakeAlertStore({ latency: (n) => (n % 3) * 4 });
    const { writer, outcomes } = recordingWriter(fake.store);
    for (const w of [fire('slow', 1), fire('fast', 2), resolve('slow', 3), resolve('fast', 4), fire('slow', 5), fire('fast', 6)]) writer.push(w);
    await writer.drain();
    expect(fake.applied.map((a) => a.value)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(outcomes.map((o) => o.write.value)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(outcomes.every((o) => o.ok && o.changed)).toBe(true);
  });

  it('sends units of different rules to the store together (one group), a second write of a rule in the next batch', async () => {
    const fake = fakeAlertStore({ latency: () => 3 });
    const { writer } = recordingWriter(fake.store);
    for (let i = 0; i < 40; i++) writer.push(fire(`r${i}`, i));
    writer.push(resolve('r0', 40));
    await writer.drain();
    expect(fake.maxInFlight()).toBe(40);
    expect(fake.events).toHaveLength(40);
    expect(fake.applied.at(-1)).toEqual({ kind: 'resolve', rule: 'r0', value: 40 });
  });

  it('keeps at most maxBatch units in flight and still writes them all', async () => {
    const fake = fakeAlertStore({ latency: () => 2 });
    const { writer, outcomes } = recordingWriter(fake.store, { maxBatch: 4 });
    for (let i = 0; i < 30; i++) writer.push(fire(`r${i}`, i));
    expect(writer.queued).toBe(30);
    await writer.drain();
    expect(fake.maxInFlight()).toBe(4);
    expect(outcomes).toHaveLength(30);
    expect(writer.queued).toBe(0);
  });

  it('calls onCommitted once per committed batch, after that batch\'s outcomes were reported', async () => {
    const fake = fakeAlertStore({ latency: () => 1 });
    const outcomes: WriteOutcome[] = [];
    const toldAfter: number[] = [];
    const writer = createAlertWriter({ store: fake.store, logger, backoff: quick, maxBatch: 4, onWritten: (o) => outcomes.push(o), onCommitted: () => toldAfter.push(outcomes.length) });
    for (let i = 0; i < 10; i++) writer.push(fire(`r${i}`, i));
    await writer.drain();
    // The first push starts a batch of its own at once; the nine queued meanwhile go 4, 4 and 1.
    expect(toldAfter).toEqual([1, 5, 9, 10]);
  });

  it('commits readings with the writes they caused, after every unit queued before', async () => {
    const fake = fakeAlertStore({ latency: (n) => (n === 0 ? 6 : 0) });
    const { writer } = recordingWriter(fake.store);
    writer.push(fire('a', 1));
    const committed = writer.commit([resolve('a', 2)], [reading(2)]);
    await committed;
    expect(fake.applied).toEqual([
      { kind: 'open', rule: 'a', value: 1 },
      { kind: 'resolve', rule: 'a', value: 2 },
      { kind: 'reading', rule: 'device-1', value: 2 },
    ]);
  });

  it('a retriable failure rejects the caller at once, retries with backoff, and nothing queued after overtakes it', async () => {
    const fake = fakeAlertStore({ fails: (n) => n < 3 });
    const { writer, outcomes } = recordingWriter(fake.store);
    const first = writer.commit([fire('a', 1)], [reading(1)]);
    await expect(first).rejects.toMatchObject({ retriable: true });
    // Queued while the first unit backs off: told at once, committed after it.
    const second = writer.commit([resolve('a', 2)], [reading(2)]);
    await expect(second).rejects.toMatchObject({ retriable: true });
    await writer.drain();
    expect(fake.applied.map((a) => [a.kind, a.value])).toEqual([
      ['open', 1],
      ['reading', 1],
      ['resolve', 2],
      ['reading', 2],
    ]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, true]);
    // A resend after the recovery is acknowledged once everything before it landed.
    await expect(writer.commit([], [reading(2)])).resolves.toBeUndefined();
  });

  it('waitOutRetries: the caller is answered with the outcome, not the failures retried before it', async () => {
    const fake = fakeAlertStore({ fails: (n) => n < 3 });
    const { writer } = recordingWriter(fake.store);
    const first = writer.commit([fire('a', 1)], [reading(1)], { waitOutRetries: true });
    // Queued while the first unit backs off: not told of its failure either.
    const second = writer.commit([resolve('a', 2)], [reading(2)], { waitOutRetries: true });
    await expect(first).resolves.toBeUndefined();
    await expect(second).resolves.toBeUndefined();
    expect(fake.applied.map((a) => [a.kind, a.value])).toEqual([
      ['open', 1],
      ['reading', 1],
      ['resolve', 2],
      ['reading', 2],
    ]);

    const broken = fakeAlertStore({ fails: (n) => n === 0, breaks: (n) => n === 1 });
    const doomed = recordingWriter(broken.store).writer.commit([fire('doomed', 1)], [], { waitOutRetries: true });
    await expect(doomed).rejects.toMatchObject({ retriable: false });
  });

  it('reports a unit given up on a non-retriable failure, then goes on', async () => {
    const fake = fakeAlertStore({ breaks: (n) => n === 0 });
    const { writer, outcomes } = recordingWriter(fake.store);
    const doomed = writer.commit([fire('doomed', 1)], []);
    writer.push(fire('doomed', 2));
    await expect(doomed).rejects.toMatchObject({ retriable: false });
    await writer.drain();
    expect(outcomes.map((o) => [o.write.value, o.ok])).toEqual([
      [1, false],
      [2, true],
    ]);
    expect(fake.applied).toEqual([{ kind: 'open', rule: 'doomed', value: 2 }]);
  });

  it('drain waits for every unit pushed before it, including retried ones', async () => {
    const fake = fakeAlertStore({ latency: (n) => n % 5, fails: (n) => n === 1 });
    const { writer, outcomes } = recordingWriter(fake.store);
    await writer.drain();
    for (let i = 0; i < 12; i++) writer.push(fire(`r${i % 3}`, i));
    const drained = writer.drain();
    writer.push(fire('late', 99));
    await drained;
    expect(outcomes.filter((o) => o.write.rule.id !== 'late')).toHaveLength(12);
    await writer.drain();
    expect(outcomes).toHaveLength(13);
    expect(writer.queued).toBe(0);
  });

  it('a throwing onWritten does not stall the queue', async () => {
    const fake = fakeAlertStore();
    let calls = 0;
    const writer = createAlertWriter({
      store: fake.store,
      logger,
      onWritten: () => {
        calls++;
        throw new Error('listener broke');
      },
    });
    writer.push(fire('r', 1));
    writer.push(resolve('r', 2));
    await writer.drain();
    expect(calls).toBe(2);
    expect(fake.applied.map((a) => a.kind)).toEqual(['open', 'resolve']);
  });

  it('on a real SQLite store, concurrent units commit in groups with their readings and end in their pushed states', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    await store.migrate();
    try {
      const { writer, outcomes } = recordingWriter(store);
      const rules = Array.from({ length: 50 }, (_, i) => `rule-${i}`);
      for (const id of rules) writer.push(fire(id, 1));
      for (const id of rules) writer.push(resolve(id, 2));
      await Promise.all(rules.slice(0, 25).map((id, i) => writer.commit([fire(id, 3)], [{ ...reading(3 + i), device_id: id }])));
      expect(outcomes.every((o) => o.ok && o.changed)).toBe(true);
      expect((await store.alerts.stats()).open).toBe(25);
      for (const id of [rules[0], rules[49]]) {
        const events = (await store.alerts.list({ alert_id: id })).map((e) => [e.current_value, e.is_resolved, e.resolution_value]);
        expect(events).toEqual(id === rules[0] ? [[3, false, null], [1, true, 2]] : [[1, true, 2]]);
      }
      expect((await store.notifications.counts()).pending).toBe(125);
      expect(await store.readings.latestAll()).toHaveLength(25);
      // A resolve names its event in its notification.
      const [resolved] = await store.alerts.list({ alert_id: rules[49] });
      const rows = await store.notifications.list({});
      expect(rows.some((n) => n.dedup_key === `alert:${rules[49]}:resolved` && (n.metadata as { event_id?: string }).event_id === resolved!.id)).toBe(true);
    } finally {
      await store.close();
    }
  });
});
