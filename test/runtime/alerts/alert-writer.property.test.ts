import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/runtime/logger.ts';
import { createAlertWriter, type AlertWrite } from '../../../src/runtime/alerts/alert-writer.ts';
import { fakeAlertStore, rule } from './fake-alert-store.ts';

const logger = createLogger('silent');
const RULES = ['a', 'b', 'c', 'd'];

/** Each rule's events as applying its writes one after another, in push order, would leave them. */
function model(writes: AlertWrite[]): Map<string, { opened: number; resolved: number | null }[]> {
  const events = new Map<string, { opened: number; resolved: number | null }[]>(RULES.map((id) => [id, []]));
  for (const w of writes) {
    const list = events.get(w.rule.id)!;
    const open = list.find((e) => e.resolved === null);
    if (w.kind === 'fire' && !open) list.push({ opened: w.value, resolved: null });
    if (w.kind === 'resolve' && open) open.resolved = w.value;
  }
  return events;
}

describe('createAlertWriter (property)', () => {
  it('ends in the state of the writes applied in push order, whatever the store latencies and retriable failures', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ kind: fc.constantFrom('fire' as const, 'resolve' as const), rule: fc.constantFrom(...RULES) }), { maxLength: 40 }),
        fc.array(fc.nat({ max: 6 }), { minLength: 1, maxLength: 50 }),
        fc.array(fc.boolean(), { maxLength: 50 }),
        fc.integer({ min: 1, max: 8 }),
        async (pushes, latencies, failures, maxBatch) => {
          const fake = fakeAlertStore({ latency: (n) => latencies[n % latencies.length], fails: (n) => failures[n] === true });
          const writer = createAlertWriter({ store: fake.store, logger, maxBatch, backoff: { initialMs: 0, maxMs: 0 } });
          const writes = pushes.map((p, i): AlertWrite => ({ kind: p.kind, rule: rule(p.rule), value: i, at: i * 1000 }));
          for (const w of writes) writer.push(w);
          await writer.drain();
          const stored = new Map(RULES.map((id) => [id, fake.events.filter((e) => e.alert_id === id).map((e) => ({ opened: e.current_value, resolved: e.resolution_value }))]));
          expect(stored).toEqual(model(writes));
          // A rule's transitions took effect in push order (units of distinct rules share a batch, which
          // the store commits as one group; this fake commits each on its own).
          for (const id of RULES) {
            const effective = fake.applied.filter((a) => a.rule === id).map((a) => a.value);
            expect(effective).toEqual([...effective].sort((a, b) => a - b));
          }
          expect(writer.queued).toBe(0);
        },
      ),
      { numRuns: 100 },
    );
  });
});
