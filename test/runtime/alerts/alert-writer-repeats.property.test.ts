import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { alertDedupKey } from '../../../src/channels/templates.ts';
import type { Notification } from '../../../src/domain/notification.ts';
import type { Rule } from '../../../src/domain/rule.ts';
import type { Repeat } from '../../../src/runtime/dedup-memory.ts';
import { createLogger } from '../../../src/runtime/logger.ts';
import { createAlertWriter, type AlertWrite, type WriteOutcome } from '../../../src/runtime/alerts/alert-writer.ts';
import { channelsOf } from '../../../src/runtime/alerts/notifications.ts';
import { createSqliteStore } from '../../../src/storage/sqlite/index.ts';
import { rule as ruleNamed } from './fake-alert-store.ts';

const logger = createLogger('silent');
const AVAILABLE = new Set(['console', 'slack', 'email', 'webhook']);
/** Rules with channels of their own, one or several, and one routed by severity among the available ones. */
const RULES: Rule[] = [
  { ...ruleNamed('one'), channels: ['console'] },
  { ...ruleNamed('two'), channels: ['slack', 'email'] },
  { ...ruleNamed('routed'), channels: [], severity: 'critical' },
];

/** A key of the remembered sends: a rule's transition on a channel. */
const slot = (channel: string, dedupKey: string) => `${channel} ${dedupKey}`;

describe('the alert writer and repeats of remembered sends (property, real SQLite)', () => {
  it('writes a row for every channel of a transition that changed something, except those repeating a remembered send, which it reports', async () => {
    const allSlots = RULES.flatMap((r) => channelsOf(r, AVAILABLE).flatMap((c) => [slot(c, alertDedupKey(r.id, 'firing')), slot(c, alertDedupKey(r.id, 'resolved'))]));
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ kind: fc.constantFrom('fire' as const, 'resolve' as const), rule: fc.constantFrom(...RULES) }), { maxLength: 30 }),
        fc.subarray(allSlots),
        fc.boolean(),
        async (pushes, remembered, claim) => {
          const store = createSqliteStore({ path: ':memory:' });
          await store.migrate();
          const known = new Set(remembered);
          const outcomes: WriteOutcome[] = [];
          const writer = createAlertWriter({
            store,
            logger,
            channels: AVAILABLE,
            claimOutbox: () => claim,
            repeatOf: (channel, dedupKey) => (known.has(slot(channel, dedupKey)) ? { id: `sent:${channel}:${dedupKey}`, sentAt: new Date(0).toISOString() } : undefined),
            onWritten: (outcome) => outcomes.push(outcome),
          });
          const writes = pushes.map((p, i): AlertWrite => ({ kind: p.kind, rule: p.rule, value: i, at: Date.UTC(2030, 0, 1) + i * 1000 }));
          for (const w of writes) writer.push(w);
          await writer.drain();
          const rows: Notification[] = [...(await store.notifications.list({}))].reverse();
          await store.close();

          // Each write's expected rows and repeats, checked write by write: a change notifies every
          // channel of its rule, minus the repeats; a write that changed nothing writes and reports nothing.
          const expectedRows: string[] = [];
          expect(outcomes).toHaveLength(writes.length);
          outcomes.forEach((outcome, i) => {
            const w = writes[i]!;
            expect(outcome.ok).toBe(true);
            if (!outcome.ok) return;
            const key = alertDedupKey(w.rule.id, w.kind === 'fire' ? 'firing' : 'resolved');
            const channels = channelsOf(w.rule, AVAILABLE);
            const repeated: Repeat[] = outcome.changed ? channels.filter((c) => known.has(slot(c, key))).map((c) => ({ channel: c, coveredBy: `sent:${c}:${key}` })) : [];
            expect(outcome.repeats ?? []).toEqual(repeated);
            if (outcome.changed) for (const c of channels) if (!known.has(slot(c, key))) expectedRows.push(slot(c, key));
            if (claim && outcome.changed) expect(outcome.claimed?.map((n) => slot(n.channel, n.dedup_key!))).toEqual(channels.filter((c) => !known.has(slot(c, key))).map((c) => slot(c, key)));
          });
          // The outbox holds exactly those rows, in write order, and no repeat of a remembered send.
          expect(rows.map((n) => slot(n.channel, n.dedup_key!))).toEqual(expectedRows);
          expect(rows.every((n) => n.covered_by === null && n.status === (claim ? 'sending' : 'pending'))).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });
});
