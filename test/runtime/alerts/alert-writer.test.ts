import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/runtime/logger.ts';
import { createAlertWriter, type AlertWrite, type WriteOutcome } from '../../../src/runtime/alerts/alert-writer.ts';
import { createSqliteStore } from '../../../src/storage/sqlite.ts';
import type { Store } from '../../../src/storage/store.ts';
import { fakeAlertStore, rule } from './fake-alert-store.ts';

const logger = createLogger('silent');
const quick = { initialMs: 1, maxMs: 2 };
const fire = (ruleId: string, value: number, at = value * 1000): AlertWrite => ({ kind: 'fire', rule: rule(ruleId), value, at });
const resolve = (ruleId: string, value: number, at = value * 1000): AlertWrite => ({ kind: 'resolve', rule: rule(ruleId), value, at });

/** A writer over `store` recording every outcome it reports. */
function recordingWriter(store: Store, options: { retries?: number; maxInFlight?: number } = {}) {
  const outcomes: WriteOutcome[] = [];
  const writer = createAlertWriter({ store, logger, backoff: quick, onWritten: (outcome) => outcomes.push(outcome), ...options });
  return { writer, outcomes };
}

describe('createAlertWriter', () => {
  it("keeps each rule's writes in push order while other rules' writes overtake them", async () => {
    // The first rule's calls are slow, the second's instant: only order within a rule is kept.
    const fake = fakeAlertStore({ latency: (_, ruleId) => (ruleId === 'slow' ? 8 : 0) });
    const { writer, outcomes } = recordingWriter(fake.store);
    for (const w of [fire('slow', 1), fire('fast', 2), resolve('slow', 3), resolve('fast', 4), fire('slow', 5), fire('fast', 6)]) writer.push(w);
    await writer.drain();
    const of = (ruleId: string) => fake.applied.filter((a) => a.rule === ruleId).map((a) => [a.kind, a.value]);
    expect(of('slow')).toEqual([['open', 1], ['resolve', 3], ['open', 5]]);
    expect(of('fast')).toEqual([['open', 2], ['resolve', 4], ['open', 6]]);
    expect(fake.applied[0].rule).toBe('fast');
    const reported = (ruleId: string) => outcomes.filter((o) => o.write.rule.id === ruleId).map((o) => o.write.value);
    expect(reported('slow')).toEqual([1, 3, 5]);
    expect(reported('fast')).toEqual([2, 4, 6]);
    expect(outcomes.every((o) => o.ok && o.changed)).toBe(true);
  });

  it('runs writes of different rules concurrently, so the store has many calls in flight', async () => {
    const fake = fakeAlertStore({ latency: () => 3 });
    const { writer } = recordingWriter(fake.store);
    for (let i = 0; i < 40; i++) writer.push(fire(`r${i}`, i));
    await writer.drain();
    expect(fake.maxInFlight()).toBe(40);
    expect(fake.events).toHaveLength(40);
  });

  it('keeps at most maxInFlight writes in flight and still writes them all', async () => {
    const fake = fakeAlertStore({ latency: () => 2 });
    const { writer, outcomes } = recordingWriter(fake.store, { maxInFlight: 4 });
    for (let i = 0; i < 30; i++) writer.push(i % 2 === 0 ? fire(`r${i % 10}`, i) : resolve(`r${(i - 1) % 10}`, i));
    expect(writer.queued).toBe(30);
    await writer.drain();
    expect(fake.maxInFlight()).toBe(4);
    expect(outcomes).toHaveLength(30);
    expect(writer.queued).toBe(0);
  });

  it('retries a failing write with backoff, without holding up other rules', async () => {
    let flakyCalls = 0;
    const fake = fakeAlertStore({ fails: (_, ruleId) => ruleId === 'flaky' && flakyCalls++ < 2 });
    const { writer, outcomes } = recordingWriter(fake.store);
    writer.push(fire('flaky', 1));
    writer.push(resolve('flaky', 2));
    writer.push(fire('steady', 3));
    await writer.drain();
    expect(fake.failures()).toBe(2);
    expect(outcomes.map((o) => [o.write.rule.id, o.write.kind, o.ok])).toContainEqual(['flaky', 'fire', true]);
    expect(fake.applied.filter((a) => a.rule === 'flaky').map((a) => a.kind)).toEqual(['open', 'resolve']);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    // The steady rule was written while the flaky one waited out its backoff.
    expect(outcomes.findIndex((o) => o.write.rule.id === 'steady')).toBeLessThan(outcomes.findIndex((o) => o.write.kind === 'fire' && o.write.rule.id === 'flaky'));
  });

  it('reports a write given up after its retries, then goes on with the same rule', async () => {
    const fake = fakeAlertStore({ fails: (n) => n < 2 });
    const { writer, outcomes } = recordingWriter(fake.store, { retries: 1 });
    writer.push(fire('doomed', 1));
    writer.push(fire('doomed', 2));
    await writer.drain();
    expect(outcomes.map((o) => [o.write.value, o.ok])).toEqual([
      [1, false],
      [2, true],
    ]);
    expect(fake.applied).toEqual([{ kind: 'open', rule: 'doomed', value: 2 }]);
  });

  it('drain waits for every write pushed before it, including retried ones', async () => {
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

  it('a throwing onWritten does not stall the rule', async () => {
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

  it('on a real SQLite store, concurrent rules commit in groups and end in their pushed states', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    await store.migrate();
    try {
      const { writer, outcomes } = recordingWriter(store);
      const rules = Array.from({ length: 50 }, (_, i) => `rule-${i}`);
      for (const id of rules) writer.push(fire(id, 1));
      for (const id of rules) writer.push(resolve(id, 2));
      for (const id of rules.slice(0, 25)) writer.push(fire(id, 3));
      await writer.drain();
      expect(outcomes.every((o) => o.ok && o.changed)).toBe(true);
      expect((await store.alerts.stats()).open).toBe(25);
      for (const id of [rules[0], rules[49]]) {
        const events = (await store.alerts.list({ alert_id: id })).map((e) => [e.current_value, e.is_resolved, e.resolution_value]);
        expect(events).toEqual(id === rules[0] ? [[3, false, null], [1, true, 2]] : [[1, true, 2]]);
      }
      expect((await store.notifications.counts()).pending).toBe(125);
    } finally {
      await store.close();
    }
  });
});
