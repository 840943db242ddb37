import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewNotification, NotificationStatus } from '../../src/domain/notification.ts';
import type { Reading } from '../../src/domain/reading.ts';
import { StoreError } from '../../src/errors.ts';
import type { Store } from '../../src/storage/store.ts';
import { runSilenceContract } from './store-silences.contract.ts';
import { at, health, newEvent, note, ruleInput, seen, snapshot, uid } from './store.fixtures.ts';

/** How an adapter's test file hands the contract a store. */
export interface StoreContractOptions {
  /**
   * A store of its own for one test: an empty database (or schema) no other test writes to, migrated
   * or not (the suite calls `migrate()`). The suite closes every store it creates.
   */
  create: () => Promise<Store>;
}

/** The Store port's contract: every adapter's test file runs it once. */
export function runStoreContract(name: string, { create }: StoreContractOptions): void {
  describe(`Store contract: ${name}`, () => {
    const opened: Store[] = [];
    let store: Store;

    /** A migrated store of its own, closed after the test. */
    const fresh = async (): Promise<Store> => {
      const created = await create();
      opened.push(created);
      await created.migrate();
      return created;
    };

    beforeEach(async () => {
      store = await fresh();
    });
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    });

    describe('lifecycle', () => {
      it('migrate is idempotent and leaves no table missing', async () => {
        expect(await store.migrate()).toEqual([]);
        expect(await store.missingTables()).toEqual([]);
        await expect(store.health()).resolves.toBeUndefined();
      });

      it("now() is the database's clock in epoch ms, moving forward (its server and this machine share a clock here)", async () => {
        const before = Date.now();
        const first = await store.now();
        await new Promise((resolve) => setTimeout(resolve, 20));
        const second = await store.now();
        const after = Date.now();
        expect(Number.isInteger(first)).toBe(true);
        expect(first).toBeGreaterThanOrEqual(before - 5);
        expect(second).toBeGreaterThanOrEqual(first + 15);
        expect(second).toBeLessThanOrEqual(after + 5);
        await store.close();
        await expect(store.now()).rejects.toMatchObject({ name: 'StoreError', code: 'STORE_CLOSED' });
      });

      it('close is idempotent and later calls reject with STORE_CLOSED', async () => {
        await store.close();
        await store.close();
        const error = await store.rules.list().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StoreError);
        expect(error).toMatchObject({ code: 'STORE_CLOSED' });
      });

      it('rejects a malformed timestamp with a StoreError', async () => {
        const bad: Reading = { device_id: uid('d'), metric: 'cpu', value: 1, ts: 'yesterday-ish' };
        await expect(store.readings.upsertLatest([bad])).rejects.toBeInstanceOf(StoreError);
      });
    });

    describe('messages', () => {
      it('recent returns the newest `limit` messages, oldest first, with values as recorded', async () => {
        await store.messages.record([seen(1), seen(2, ['a', { b: null }])]);
        await store.messages.record([seen(3, 'text'), seen(4, 42)]);
        const recent = await store.messages.recent(3);
        expect(recent.map((m) => m.offset)).toEqual(['2', '3', '4']);
        expect(recent[0]).toEqual(seen(2, ['a', { b: null }]));
        expect(recent[1]).toMatchObject({ key: null, value: 'text' });
        expect(await store.messages.recent(10)).toHaveLength(4);
      });

      it('an empty record writes nothing and a zero limit returns nothing', async () => {
        await store.messages.record([]);
        await store.messages.record([seen(1)]);
        expect(await store.messages.recent(0)).toEqual([]);
        expect(await store.messages.recent(5)).toEqual([seen(1)]);
      });

      it('deleteReceivedBefore removes only messages received before the cutoff and counts them', async () => {
        await store.messages.record([seen(1), seen(2), seen(3), seen(4)]);
        expect(await store.messages.deleteReceivedBefore(at(3))).toBe(2);
        expect(await store.messages.recent(10)).toEqual([seen(3), seen(4)]);
        expect(await store.messages.deleteReceivedBefore(at(3))).toBe(0);
        expect(await store.messages.recent(1)).toEqual([seen(4)]);
      });
    });

    describe('snapshots', () => {
      it('save upserts and load returns the last saved snapshot', async () => {
        const id = uid('alert');
        await store.snapshots.save([{ actorId: id, snapshot: { value: 'ok', context: { n: 1 } } }]);
        await store.snapshots.save([{ actorId: id, snapshot: { value: 'firing', context: { n: 2 } } }]);
        expect(await store.snapshots.load(id)).toEqual({ value: 'firing', context: { n: 2 } });
        expect(await store.snapshots.load(uid('unknown'))).toBeUndefined();
      });

      it('loadAll returns exactly the ids starting with the prefix, taking % and _ literally', async () => {
        const prefix = `${uid('rule')}%_:`;
        await store.snapshots.save([
          { actorId: `${prefix}a`, snapshot: 1 },
          { actorId: `${prefix}b`, snapshot: [2] },
          { actorId: `${prefix.replace('%_', 'xy')}c`, snapshot: 3 },
          { actorId: uid('plugin'), snapshot: 4 },
        ]);
        const all = await store.snapshots.loadAll(prefix);
        expect(new Map([...all].sort())).toEqual(new Map<string, unknown>([[`${prefix}a`, 1], [`${prefix}b`, [2]]]));
      });

      it('delete removes one snapshot and ignores unknown ids', async () => {
        const [keep, gone] = [uid('a'), uid('b')];
        await store.snapshots.save([{ actorId: keep, snapshot: 'k' }, { actorId: gone, snapshot: 'g' }]);
        await store.snapshots.delete(gone);
        await store.snapshots.delete(uid('never'));
        expect(await store.snapshots.load(gone)).toBeUndefined();
        expect(await store.snapshots.load(keep)).toBe('k');
      });

      it('deleteMany removes every listed snapshot in one call, ignoring unknown ids and leaving the rest', async () => {
        const ids = Array.from({ length: 5 }, (_, i) => uid(`many-${i}`));
        await store.snapshots.save(ids.map((actorId, i) => ({ actorId, snapshot: { i } })));
        await store.snapshots.deleteMany([ids[0]!, ids[2]!, ids[4]!, uid('never')]);
        await store.snapshots.deleteMany([]);
        expect(await Promise.all(ids.map((id) => store.snapshots.load(id)))).toEqual([undefined, { i: 1 }, undefined, { i: 3 }, undefined]);
      });
    });

    describe('rules', () => {
      it('applyChanges creates, edits and deletes many rules in one transaction', async () => {
        const [keep, edit, gone] = [await store.rules.create(ruleInput()), await store.rules.create(ruleInput()), await store.rules.create(ruleInput())];
        const news = [ruleInput({ id: uid('bulk') }), ruleInput({ id: uid('bulk'), channels: ['email', 'slack'], clear_threshold: 70 })];
        const result = await store.rules.applyChanges({
          create: news,
          update: [{ id: edit.id, patch: { threshold: 3, enabled: false } }, { id: uid('missing'), patch: { threshold: 1 } }],
          delete: [gone.id, uid('missing')],
        });
        expect(result.created.map((r) => r.id)).toEqual(news.map((r) => r.id));
        expect(result.updated).toMatchObject([{ id: edit.id, threshold: 3, enabled: false }]);
        expect(result.deleted).toBe(1);
        const stored = await store.rules.list();
        expect(stored.map((r) => r.id)).toEqual([keep.id, edit.id, ...news.map((r) => r.id)]);
        expect(stored[3]).toEqual(result.created[1]);
        expect(stored[3]).toMatchObject({ channels: ['email', 'slack'], clear_threshold: 70 });
        expect(await store.rules.applyChanges({})).toEqual({ created: [], updated: [], deleted: 0 });
      });

      it('applyChanges is all or nothing: a create whose id exists rejects with CONFLICT and changes nothing', async () => {
        const existing = await store.rules.create(ruleInput());
        const before = await store.rules.list();
        const attempt = store.rules.applyChanges({ create: [ruleInput({ id: uid('bulk') }), ruleInput({ id: existing.id })], delete: [existing.id] });
        await expect(attempt).rejects.toMatchObject({ code: 'CONFLICT' });
        expect(await store.rules.list()).toEqual(before);
      });

      it('applyChanges stores a batch of any size (more than one statement holds) in order, deletes many at once, and names a repeated id', async () => {
        const news = Array.from({ length: 10_300 }, (_, i) => ruleInput({ id: `bulk-${i}-${uid('r')}`, threshold: i }));
        const { created } = await store.rules.applyChanges({ create: news });
        expect(created.map((r) => r.threshold)).toEqual(news.map((r) => r.threshold));
        expect(await store.rules.list()).toEqual(created);
        const gone = news.filter((_, i) => i % 3 === 0).map((r) => r.id!);
        expect((await store.rules.applyChanges({ delete: gone })).deleted).toBe(gone.length);
        expect(await store.rules.fingerprint()).toMatchObject({ count: news.length - gone.length });
        const repeated = uid('twice');
        const attempt = store.rules.applyChanges({ create: [...news.slice(0, 700).map((r) => ({ ...r, id: uid('fresh') })), ruleInput({ id: repeated }), ruleInput({ id: repeated })] });
        await expect(attempt).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining(repeated) });
        expect(await store.rules.fingerprint()).toMatchObject({ count: news.length - gone.length });
      });

      it('applyChanges updates many rules in the order given, whatever fields each sets; an id patched twice keeps the later patch', async () => {
        const { created } = await store.rules.applyChanges({ create: Array.from({ length: 50 }, (_, i) => ruleInput({ id: `up-${i}-${uid('r')}` })) });
        const update = [
          ...created.slice(0, 40).map((r, i) => ({ id: r.id, patch: { ...ruleInput({ device_id: r.device_id }), threshold: 1_000 + i, channels: ['email'] } })),
          { id: created[45]!.id, patch: { enabled: false } },
          { id: uid('missing'), patch: { threshold: 1 } },
          { id: created[46]!.id, patch: { threshold: 1 } },
          { id: created[46]!.id, patch: { threshold: 2 } },
        ];
        const { updated } = await store.rules.applyChanges({ update: update.reverse() });
        expect(updated.map((r) => r.id)).toEqual(update.filter((u) => !u.id.startsWith('missing')).map((u) => u.id));
        const byId = new Map((await store.rules.list()).map((r) => [r.id, r]));
        expect(created.slice(0, 40).map((r) => [byId.get(r.id)!.threshold, byId.get(r.id)!.channels])).toEqual(created.slice(0, 40).map((_, i) => [1_000 + i, ['email']]));
        expect(byId.get(created[45]!.id)).toMatchObject({ enabled: false, threshold: created[45]!.threshold });
        expect(byId.get(created[46]!.id)!.threshold).toBe(1);
        expect(byId.get(created[47]!.id)).toEqual(created[47]);
      });

      it('fingerprint counts the rules and changes on every create, edit and delete', async () => {
        expect(await store.rules.fingerprint()).toEqual({ count: 0, updated: null });
        const a = await store.rules.create(ruleInput());
        const b = await store.rules.create(ruleInput());
        const afterCreates = await store.rules.fingerprint();
        expect(afterCreates).toEqual({ count: 2, updated: [a.updated_at, b.updated_at].sort()[1] });
        await new Promise((resolve) => setTimeout(resolve, 2));
        const edited = await store.rules.update(a.id, { threshold: 1 });
        expect(await store.rules.fingerprint()).toEqual({ count: 2, updated: edited!.updated_at });
        await store.rules.delete(b.id);
        expect(await store.rules.fingerprint()).toEqual({ count: 1, updated: edited!.updated_at });
      });

      it('create assigns an id and timestamps; get and list return the stored rule', async () => {
        const rule = await store.rules.create(ruleInput());
        expect(rule.id).toMatch(/^[0-9a-f-]{36}$/);
        expect(rule.created_at).toBe(rule.updated_at);
        expect(rule).toMatchObject(ruleInput({ device_id: rule.device_id }));
        expect(await store.rules.get(rule.id)).toEqual(rule);
        expect(await store.rules.list()).toEqual([rule]);
      });

      it('round-trips booleans, nulls and channel lists', async () => {
        const input = ruleInput({ id: uid('rule'), enabled: false, clear_threshold: null, nodata_seconds: null, channels: [] });
        await store.rules.create(input);
        expect(await store.rules.get(input.id!)).toMatchObject({
          enabled: false,
          clear_threshold: null,
          nodata_seconds: null,
          channels: [],
        });
      });

      it('create with an existing id rejects with CONFLICT and keeps the first rule', async () => {
        const id = uid('rule');
        const first = await store.rules.create(ruleInput({ id, name: 'first' }));
        const error = await store.rules.create(ruleInput({ id, name: 'second' })).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StoreError);
        expect(error).toMatchObject({ code: 'CONFLICT' });
        expect(await store.rules.get(id)).toEqual(first);
      });

      it('update applies the defined fields of the patch and keeps the rest', async () => {
        const rule = await store.rules.create(ruleInput());
        await new Promise((resolve) => setTimeout(resolve, 5));
        const updated = await store.rules.update(rule.id, { threshold: 95, enabled: false, name: undefined });
        expect(updated).toEqual({ ...rule, threshold: 95, enabled: false, updated_at: updated!.updated_at });
        expect(updated!.updated_at > rule.updated_at).toBe(true);
        expect(await store.rules.get(rule.id)).toEqual(updated);
      });

      it('update and delete of an unknown id change nothing', async () => {
        expect(await store.rules.update(uid('rule'), { threshold: 1 })).toBeUndefined();
        expect(await store.rules.delete(uid('rule'))).toBe(false);
        expect(await store.rules.list()).toEqual([]);
      });

      it('delete removes the rule', async () => {
        const [kept, gone] = [await store.rules.create(ruleInput()), await store.rules.create(ruleInput())];
        expect(await store.rules.delete(gone.id)).toBe(true);
        expect(await store.rules.get(gone.id)).toBeUndefined();
        expect(await store.rules.list()).toEqual([kept]);
      });
    });

    describe('readings', () => {
      it('keeps the newest ts per key whatever the arrival order; a tie goes to the later write', async () => {
        const d = uid('device');
        await store.readings.upsertLatest([
          { device_id: d, metric: 'cpu', value: 2, ts: at(20) },
          { device_id: d, metric: 'cpu', value: 1, ts: at(10) },
          { device_id: d, metric: 'mem', value: 5, ts: at(5) },
        ]);
        await store.readings.upsertLatest([{ device_id: d, metric: 'cpu', value: 0, ts: at(15) }]);
        expect(await store.readings.latest(d, 'cpu')).toEqual({ device_id: d, metric: 'cpu', value: 2, ts: at(20) });
        await store.readings.upsertLatest([{ device_id: d, metric: 'mem', value: 6, ts: at(5) }]);
        expect(await store.readings.latest(d, 'mem')).toEqual({ device_id: d, metric: 'mem', value: 6, ts: at(5) });
      });

      it('stores ts in canonical form, so other ISO spellings compare correctly', async () => {
        const d = uid('device');
        await store.readings.upsertLatest([{ device_id: d, metric: 'cpu', value: 1, ts: '2030-01-01T01:00:00+01:00' }]);
        await store.readings.upsertLatest([{ device_id: d, metric: 'cpu', value: 2, ts: '2030-01-01T00:00:00.5Z' }]);
        const latest = await store.readings.latest(d, 'cpu');
        expect(latest).toEqual({ device_id: d, metric: 'cpu', value: 2, ts: '2030-01-01T00:00:00.500Z' });
      });

      it('latestAll lists every key by device then metric; latest of an unknown key is undefined', async () => {
        const [a, b] = [`a-${uid('d')}`, `b-${uid('d')}`];
        await store.readings.upsertLatest([
          { device_id: b, metric: 'cpu', value: 3, ts: at(1) },
          { device_id: a, metric: 'mem', value: 2, ts: at(1) },
          { device_id: a, metric: 'cpu', value: 1, ts: at(1) },
        ]);
        await store.readings.upsertLatest([]);
        expect((await store.readings.latestAll()).map((r) => [r.device_id, r.metric, r.value])).toEqual([
          [a, 'cpu', 1],
          [a, 'mem', 2],
          [b, 'cpu', 3],
        ]);
        expect(await store.readings.latest(a, 'disk')).toBeUndefined();
      });

      it('deleteOlderThan removes readings before the cutoff and counts them', async () => {
        const d = uid('device');
        await store.readings.upsertLatest(['a', 'b', 'c'].map((metric, i) => ({ device_id: d, metric, value: i, ts: at(i * 10) })));
        expect(await store.readings.deleteOlderThan(at(10))).toBe(1);
        expect((await store.readings.latestAll()).map((r) => r.metric)).toEqual(['b', 'c']);
      });

      it('property: latest equals a reference model of the newest ts per key', async () => {
        const reading = fc.record({
          device: fc.constantFrom('a', 'b', 'c'),
          metric: fc.constantFrom('cpu', 'mem'),
          value: fc.integer({ min: -100_000, max: 100_000 }).map((n) => n / 100),
          second: fc.integer({ min: 0, max: 30 }),
        });
        await fc.assert(
          fc.asyncProperty(fc.array(fc.array(reading, { maxLength: 12 }), { maxLength: 6 }), async (batches) => {
            const prefix = uid('prop');
            const model = new Map<string, Reading>();
            for (const batch of batches) {
              const readings = batch.map((r) => ({
                device_id: `${prefix}-${r.device}`,
                metric: r.metric,
                value: r.value,
                ts: at(r.second),
              }));
              await store.readings.upsertLatest(readings);
              for (const r of readings) {
                const key = `${r.device_id}/${r.metric}`;
                if (!model.has(key) || r.ts >= model.get(key)!.ts) model.set(key, r);
              }
            }
            for (const expected of model.values()) {
              expect(await store.readings.latest(expected.device_id, expected.metric)).toEqual(expected);
            }
            const stored = (await store.readings.latestAll()).filter((r) => r.device_id.startsWith(prefix));
            expect(stored).toHaveLength(model.size);
          }),
          { numRuns: 40 },
        );
      });
    });

    describe('alerts', () => {
      it('open creates one event and its notifications, which default to the rule id', async () => {
        const ruleId = uid('rule');
        const notes = [note(), note({ channel: 'slack', alert_id: 'other' })];
        const { event, created } = await store.alerts.open(newEvent(ruleId), notes);
        expect(created).toBe(true);
        expect(event).toEqual({ ...newEvent(ruleId), id: event.id, is_resolved: false, resolved_at: null, resolution_value: null });
        expect(await store.alerts.openFor(ruleId)).toEqual(event);
        const outbox = await store.notifications.list({});
        expect(outbox.map((n) => [n.channel, n.alert_id, n.status]).sort()).toEqual([
          ['console', ruleId, 'pending'],
          ['slack', 'other', 'pending'],
        ]);
      });

      it('commit with claim: a due row is returned claimed (sending, claimed again only once stale) or left pending, never both', async () => {
        const [r1, r2] = [uid('rule'), uid('rule')];
        const [now1, later1, now2] = [uid('n'), uid('n'), uid('n')];
        const outcomes = await store.alerts.commit({
          transitions: [
            { kind: 'open', event: newEvent(r1), notifications: [note({ id: now1, dedup_key: uid('k') }), note({ id: later1, next_attempt_at: '2999-01-01T00:00:00.000Z' })] },
            { kind: 'resolve', alertId: uid('rule'), resolution: { resolved_at: at(1), resolution_value: 1 }, notifications: () => [note()] },
            { kind: 'open', event: newEvent(r2), notifications: [note({ id: now2 })] },
          ],
          readings: [],
          claim: true,
        });
        expect(outcomes.map((o) => o.changed)).toEqual([true, false, true]);
        const claimed = outcomes.flatMap((o) => o.claimed ?? []);
        // As a claim returns them, and as stored.
        const listed = await store.notifications.list({});
        for (const row of claimed) expect(listed.find((n) => n.id === row.id)).toEqual({ ...row, status: 'sending' });
        expect(listed.find((n) => n.id === later1)).toMatchObject({ status: 'pending' });
        const ours = [now1, later1, now2];
        const claimable = (await store.notifications.claim(new Date().toISOString(), 100, 60_000)).filter((n) => ours.includes(n.id));
        expect([...claimed, ...claimable].map((n) => n.id).sort()).toEqual([now1, now2].sort());
        // Their deliverer died: once stale, every due row is claimed again (at least once), the later one still waits.
        const stale = await store.notifications.claim(new Date(Date.now() + 61_000).toISOString(), 100, 60_000);
        expect(stale.map((n) => n.id).filter((id) => ours.includes(id)).sort()).toEqual([now1, now2].sort());
      });

      it('commit writes transitions in order with their outbox rows, then the readings; concurrent commits all land', async () => {
        const ruleId = uid('rule');
        const id = uid('event');
        const reading: Reading = { device_id: 'device-commit', metric: 'cpu', value: 95, ts: at(5) };
        const outcomes = await store.alerts.commit({
          transitions: [
            { kind: 'open', event: newEvent(ruleId, { id }), notifications: [note()] },
            { kind: 'resolve', alertId: ruleId, resolution: { resolved_at: at(10), resolution_value: 1 }, notifications: (event) => [note({ dedup_key: `resolved:${event.id}` })] },
            { kind: 'resolve', alertId: ruleId, resolution: { resolved_at: at(11), resolution_value: 2 }, notifications: () => [note()] },
          ],
          readings: [reading],
        });
        expect(outcomes.map((o) => [o.changed, o.event?.id])).toEqual([
          [true, id],
          [true, id],
          [false, undefined],
        ]);
        expect((await store.alerts.list({ alert_id: ruleId }))[0]).toMatchObject({ is_resolved: true, resolution_value: 1 });
        const keys = (await store.notifications.list({})).map((n) => n.dedup_key);
        expect(keys).toHaveLength(2);
        expect(keys).toContain(`resolved:${id}`);
        expect(await store.readings.latest('device-commit', 'cpu')).toEqual(reading);
        const rules = Array.from({ length: 20 }, () => uid('rule'));
        await Promise.all(rules.map((r, i) => store.alerts.commit({ transitions: [{ kind: 'open', event: newEvent(r), notifications: [] }], readings: [{ ...reading, device_id: r, ts: at(i) }] })));
        expect((await store.alerts.list({ is_resolved: false })).map((e) => e.alert_id).sort()).toEqual([...rules].sort());
        expect(await store.readings.latestAll()).toHaveLength(21);
      });

      it('commit is all or nothing: a commit whose readings fail leaves no event, no outbox row, and fails alone', async () => {
        const [bad, good] = [uid('rule'), uid('rule')];
        const broken = { device_id: 'device-broken', metric: 'cpu', value: null as unknown as number, ts: at(5) };
        const fine: Reading = { device_id: 'device-fine', metric: 'cpu', value: 1, ts: at(5) };
        const [failed, landed] = await Promise.allSettled([
          store.alerts.commit({ transitions: [{ kind: 'open', event: newEvent(bad), notifications: [note()] }], readings: [broken] }),
          store.alerts.commit({ transitions: [{ kind: 'open', event: newEvent(good), notifications: [note()] }], readings: [fine] }),
        ]);
        expect(failed.status).toBe('rejected');
        expect((failed as PromiseRejectedResult).reason).toBeInstanceOf(StoreError);
        expect(landed.status).toBe('fulfilled');
        expect(await store.alerts.list({ alert_id: bad })).toEqual([]);
        expect(await store.readings.latest('device-broken', 'cpu')).toBeUndefined();
        expect((await store.notifications.list({})).map((n) => n.alert_id)).toEqual([good]);
        expect(await store.alerts.openFor(good)).toBeDefined();
        expect(await store.readings.latest('device-fine', 'cpu')).toEqual(fine);
        // A malformed timestamp in the readings is refused before anything is written.
        const malformed = { ...fine, ts: 'yesterday-ish' };
        await expect(store.alerts.commit({ transitions: [{ kind: 'open', event: newEvent(bad), notifications: [] }], readings: [malformed] })).rejects.toBeInstanceOf(StoreError);
        expect(await store.alerts.list({ alert_id: bad })).toEqual([]);
      });

      it('a second open for the same rule returns the open event and writes nothing', async () => {
        const ruleId = uid('rule');
        const first = await store.alerts.open(newEvent(ruleId), [note()]);
        const second = await store.alerts.open(newEvent(ruleId, { current_value: 99, triggered_at: at(60) }), [note(), note()]);
        expect(second).toEqual({ event: first.event, created: false });
        expect(await store.alerts.list({ alert_id: ruleId })).toHaveLength(1);
        expect((await store.notifications.counts()).pending).toBe(1);
      });

      it('concurrent opens for one rule create exactly one event', async () => {
        const ruleId = uid('rule');
        const results = await Promise.all([1, 2, 3, 4].map(() => store.alerts.open(newEvent(ruleId), [note()])));
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(new Set(results.map((r) => r.event.id)).size).toBe(1);
        expect((await store.notifications.counts()).pending).toBe(1);
      });

      it('concurrent opens of distinct rules are all created, each with its notifications', async () => {
        const rules = Array.from({ length: 40 }, () => uid('rule'));
        const results = await Promise.all(rules.map((ruleId) => store.alerts.open(newEvent(ruleId), [note()])));
        expect(results.every((r) => r.created)).toBe(true);
        expect(results.map((r) => r.event.alert_id)).toEqual(rules);
        expect((await store.notifications.counts()).pending).toBe(rules.length);
      });

      it('transitions made together apply in call order per rule; a failing one fails alone', async () => {
        const [kept, failing, cycled] = [uid('rule'), uid('rule'), uid('rule')];
        await store.alerts.open(newEvent(failing), []);
        const broken = { ...note(), channel: null } as unknown as NewNotification;
        const settled = await Promise.allSettled([
          store.alerts.open(newEvent(kept), [note({ title: 'kept' })]),
          store.alerts.resolve(failing, { resolved_at: at(5), resolution_value: 1 }, [note(), broken]),
          store.alerts.open(newEvent(cycled), [note({ title: 'cycled fired' })]),
          store.alerts.resolve(cycled, { resolved_at: at(10), resolution_value: 1 }, [note({ title: 'cycled resolved' })]),
          store.alerts.open(newEvent(cycled, { triggered_at: at(20) }), []),
          store.alerts.open(newEvent(kept), [note({ title: 'not written' })]),
        ]);
        expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
        const values = settled.map((s) => (s.status === 'fulfilled' ? s.value : undefined));
        expect(values[0]).toMatchObject({ created: true });
        expect(values[5]).toEqual({ event: (values[0] as { event: unknown }).event, created: false });
        expect(values[3]).toMatchObject({ alert_id: cycled, is_resolved: true, resolved_at: at(10) });
        expect(values[4]).toMatchObject({ created: true, event: { triggered_at: at(20) } });
        expect((await store.alerts.list({ alert_id: cycled })).map((e) => e.is_resolved)).toEqual([false, true]);
        expect(await store.alerts.openFor(failing)).toMatchObject({ is_resolved: false });
        const titles = (await store.notifications.list({})).map((n) => n.title).sort();
        expect(titles).toEqual(['cycled fired', 'cycled resolved', 'kept']);
      });

      it('a large group mixing rules, opens, resolves and repeats of a rule acts as its calls one after another', async () => {
        const rules = Array.from({ length: 20 }, () => uid('rule'));
        await Promise.all(rules.slice(0, 10).map((ruleId) => store.alerts.open(newEvent(ruleId), [])));
        const resolution = (s: number, value: number) => ({ resolved_at: at(s), resolution_value: value });
        const [firstResolves, opens, reopens, lastResolves] = await Promise.all([
          Promise.all(rules.map((ruleId) => store.alerts.resolve(ruleId, resolution(5, 1), [note({ title: 'resolved' })]))),
          Promise.all(rules.map((ruleId) => store.alerts.open(newEvent(ruleId, { triggered_at: at(10) }), [note({ title: 'fired' })]))),
          Promise.all(rules.slice(0, 5).map((ruleId) => store.alerts.open(newEvent(ruleId, { triggered_at: at(20) }), [note()]))),
          Promise.all(rules.slice(0, 5).map((ruleId) => store.alerts.resolve(ruleId, resolution(30, 2), [note({ title: 'closed' })]))),
        ]);
        expect(firstResolves.map((e) => e?.resolved_at ?? null)).toEqual(rules.map((_, i) => (i < 10 ? at(5) : null)));
        expect(opens.every((o) => o.created && o.event.triggered_at === at(10))).toBe(true);
        expect(reopens.map((o) => [o.created, o.event.id])).toEqual(opens.slice(0, 5).map((o) => [false, o.event.id]));
        expect(lastResolves.map((e) => [e?.id, e?.resolved_at])).toEqual(opens.slice(0, 5).map((o) => [o.event.id, at(30)]));
        for (const [i, ruleId] of rules.entries()) {
          expect((await store.alerts.openFor(ruleId))?.id).toBe(i < 5 ? undefined : opens[i].event.id);
        }
        const titles = (await store.notifications.list({})).map((n) => n.title);
        expect(titles.filter((t) => t === 'resolved')).toHaveLength(10);
        expect(titles.filter((t) => t === 'fired')).toHaveLength(20);
        expect(titles.filter((t) => t === 'closed')).toHaveLength(5);
        expect(titles).toHaveLength(35);
      });

      it('open with a notification the store rejects writes neither the event nor any notification', async () => {
        const ruleId = uid('rule');
        const broken = { ...note(), channel: null } as unknown as NewNotification;
        await expect(store.alerts.open(newEvent(ruleId), [note(), broken])).rejects.toBeInstanceOf(StoreError);
        expect(await store.alerts.openFor(ruleId)).toBeUndefined();
        expect(await store.notifications.list({})).toEqual([]);
      });

      it('resolve with a notification the store rejects leaves the event open and enqueues nothing', async () => {
        const ruleId = uid('rule');
        const { event } = await store.alerts.open(newEvent(ruleId), []);
        const broken = { ...note(), channel: null } as unknown as NewNotification;
        const resolving = store.alerts.resolve(ruleId, { resolved_at: at(5), resolution_value: 1 }, [note(), broken]);
        await expect(resolving).rejects.toBeInstanceOf(StoreError);
        expect(await store.alerts.openFor(ruleId)).toEqual(event);
        expect(await store.notifications.list({})).toEqual([]);
      });

      it('resolve closes the open event and enqueues its notifications; the next open is a new event', async () => {
        const ruleId = uid('rule');
        const { event } = await store.alerts.open(newEvent(ruleId), []);
        const resolution = { resolved_at: at(90), resolution_value: 42 };
        const resolved = await store.alerts.resolve(ruleId, resolution, [note({ title: 'resolved' })]);
        expect(resolved).toEqual({ ...event, is_resolved: true, resolved_at: at(90), resolution_value: 42 });
        expect(await store.alerts.list({ alert_id: ruleId })).toEqual([resolved]);
        expect(await store.alerts.openFor(ruleId)).toBeUndefined();
        expect(await store.notifications.list({})).toMatchObject([{ title: 'resolved', alert_id: ruleId, status: 'pending' }]);
        const again = await store.alerts.open(newEvent(ruleId, { triggered_at: at(120) }), []);
        expect(again.created).toBe(true);
        expect(again.event.id).not.toBe(event.id);
      });

      it('resolve with no open event returns undefined and enqueues nothing', async () => {
        const ruleId = uid('rule');
        expect(await store.alerts.resolve(ruleId, { resolved_at: at(1), resolution_value: 1 }, [note()])).toBeUndefined();
        await store.alerts.open(newEvent(ruleId), []);
        await store.alerts.resolve(ruleId, { resolved_at: at(2), resolution_value: 1 }, []);
        expect(await store.alerts.resolve(ruleId, { resolved_at: at(3), resolution_value: 1 }, [note()])).toBeUndefined();
        expect(await store.notifications.list({})).toEqual([]);
      });

      it('open keeps an id the caller gives, so notifications can name the event', async () => {
        const ruleId = uid('rule');
        const id = uid('event');
        const { event, created } = await store.alerts.open(newEvent(ruleId, { id }), [note({ dedup_key: `${ruleId}:fired:${id}` })]);
        expect({ id: event.id, created }).toEqual({ id, created: true });
        expect((await store.notifications.list({}))[0]).toMatchObject({ alert_id: ruleId, dedup_key: `${ruleId}:fired:${id}` });
        const again = await store.alerts.open(newEvent(ruleId, { id: uid('event') }), []);
        expect({ id: again.event.id, created: again.created }).toEqual({ id, created: false });
      });

      it('list filters by rule, device, resolution and time (inclusive), newest first, limited', async () => {
        const [r1, r2, r3] = [uid('rule'), uid('rule'), uid('rule')];
        const [d1, d2] = [uid('device'), uid('device')];
        await store.alerts.open(newEvent(r1, { device_id: d1, triggered_at: at(10) }), []);
        await store.alerts.resolve(r1, { resolved_at: at(15), resolution_value: 1 }, []);
        await store.alerts.open(newEvent(r1, { device_id: d1, triggered_at: at(20) }), []);
        await store.alerts.open(newEvent(r2, { device_id: d2, triggered_at: at(30) }), []);
        await store.alerts.open(newEvent(r3, { device_id: d1, triggered_at: at(40) }), []);
        const times = async (filter: Parameters<Store['alerts']['list']>[0]) =>
          (await store.alerts.list(filter)).map((e) => e.triggered_at);

        expect(await times({})).toEqual([at(40), at(30), at(20), at(10)]);
        expect(await times({ alert_id: r1 })).toEqual([at(20), at(10)]);
        expect(await times({ device_id: d1 })).toEqual([at(40), at(20), at(10)]);
        expect(await times({ is_resolved: true })).toEqual([at(10)]);
        expect(await times({ is_resolved: false, device_id: d1 })).toEqual([at(40), at(20)]);
        expect(await times({ since: at(20), until: at(30) })).toEqual([at(30), at(20)]);
        expect(await times({ limit: 2 })).toEqual([at(40), at(30)]);
        expect(await times({ alert_id: uid('rule') })).toEqual([]);
      });

      it('stats counts events, by severity, and the mean time to resolve', async () => {
        const empty = { total: 0, open: 0, resolved: 0, by_severity: {}, mean_time_to_resolve_seconds: null };
        expect(await store.alerts.stats()).toEqual(empty);
        const [r1, r2, r3] = [uid('rule'), uid('rule'), uid('rule')];
        await store.alerts.open(newEvent(r1, { severity: 'critical', triggered_at: at(0) }), []);
        await store.alerts.resolve(r1, { resolved_at: at(30), resolution_value: 1 }, []);
        await store.alerts.open(newEvent(r2, { severity: 'critical', triggered_at: at(0) }), []);
        await store.alerts.resolve(r2, { resolved_at: at(90.5), resolution_value: 1 }, []);
        await store.alerts.open(newEvent(r3, { severity: 'info', triggered_at: at(0) }), []);
        const stats = await store.alerts.stats();
        expect(stats).toMatchObject({ total: 3, open: 1, resolved: 2, by_severity: { critical: 2, info: 1 } });
        expect(stats.mean_time_to_resolve_seconds).toBeCloseTo(60.25, 3);
      });

      it('list by device: newest first, with the other filters and the limit, also the events of a rule that moved devices', async () => {
        const [d1, d2] = [uid('device'), uid('device')];
        const [a, b, c] = [uid('rule'), uid('rule'), uid('rule')];
        const cycle = async (rule: string, device: string, t: number) => {
          await store.alerts.open(newEvent(rule, { device_id: device, triggered_at: at(t) }), []);
          await store.alerts.resolve(rule, { resolved_at: at(t + 1), resolution_value: 1 }, []);
        };
        await cycle(a, d1, 10);
        await cycle(b, d1, 20);
        await cycle(c, d2, 30);
        await cycle(a, d2, 40); // rule a now watches d2
        await store.alerts.open(newEvent(b, { device_id: d1, triggered_at: at(50) }), []);
        const of = async (filter: Parameters<typeof store.alerts.list>[0]) => (await store.alerts.list(filter)).map((e) => [e.alert_id, e.triggered_at]);
        expect(await of({ device_id: d1 })).toEqual([[b, at(50)], [b, at(20)], [a, at(10)]]);
        expect(await of({ device_id: d2 })).toEqual([[a, at(40)], [c, at(30)]]);
        expect(await of({ device_id: d1, limit: 2 })).toEqual([[b, at(50)], [b, at(20)]]);
        expect(await of({ device_id: d1, is_resolved: true })).toEqual([[b, at(20)], [a, at(10)]]);
        expect(await of({ device_id: d1, since: at(15), until: at(30) })).toEqual([[b, at(20)]]);
        expect(await of({ device_id: d2, alert_id: a })).toEqual([[a, at(40)]]);
        expect(await of({ device_id: uid('device') })).toEqual([]);
      });

      it('deleteResolvedBefore deletes old resolved events and never an open one', async () => {
        const [old, recent, open] = [uid('rule'), uid('rule'), uid('rule')];
        await store.alerts.open(newEvent(open, { triggered_at: at(-1000) }), []);
        await store.alerts.open(newEvent(old, { triggered_at: at(0) }), []);
        await store.alerts.resolve(old, { resolved_at: at(10), resolution_value: 1 }, []);
        await store.alerts.open(newEvent(recent, { triggered_at: at(0) }), []);
        await store.alerts.resolve(recent, { resolved_at: at(100), resolution_value: 1 }, []);
        expect(await store.alerts.deleteResolvedBefore(at(50))).toBe(1);
        expect((await store.alerts.list({})).map((e) => e.alert_id).sort()).toEqual([open, recent].sort());
        expect(await store.alerts.openFor(open)).toBeDefined();
      });
    });

    describe('notifications', () => {
      it('enqueue fills the defaults and keeps what the producer gave', async () => {
        const key = uid('dedup');
        const [plain, full] = await store.notifications.enqueue([
          note(),
          note({ metadata: { value: 97 }, alert_id: 'rule-1', dedup_key: key, next_attempt_at: at(60) }),
        ]);
        expect(plain).toMatchObject({
          ...note(),
          metadata: {},
          alert_id: null,
          dedup_key: null,
          status: 'pending',
          attempts: 0,
          last_error: null,
          sent_at: null,
        });
        expect(plain.next_attempt_at).toBe(plain.created_at);
        expect(full).toMatchObject({ metadata: { value: 97 }, alert_id: 'rule-1', dedup_key: key, next_attempt_at: at(60) });
        expect((await store.notifications.list({})).map((n) => n.id).sort()).toEqual([plain.id, full.id].sort());
      });

      it('claim takes due rows only, oldest due first, up to the limit, and marks them sending', async () => {
        const dues = [at(30), at(10), at(20), at(99)];
        const rows = await store.notifications.enqueue(dues.map((due) => note({ next_attempt_at: due })));
        const claimed = await store.notifications.claim(at(50), 2, 60_000);
        expect(claimed.map((n) => n.next_attempt_at)).toEqual([at(10), at(20)]);
        expect(claimed.every((n) => n.status === 'sending')).toBe(true);
        expect((await store.notifications.claim(at(50), 10, 60_000)).map((n) => n.id)).toEqual([rows[0].id]);
        expect(await store.notifications.claim(at(50), 10, 60_000)).toEqual([]);
        expect(await store.notifications.claim(at(50), 0, 60_000)).toEqual([]);
        expect(await store.notifications.counts()).toEqual({ pending: 1, sending: 3, sent: 0, failed: 0, suppressed: 0 });
      });

      it('nextDueAt is the earliest next_attempt_at of the pending rows, due already or not', async () => {
        expect(await store.notifications.nextDueAt()).toBeNull();
        await store.notifications.enqueue([at(30), at(10), at(99)].map((due) => note({ next_attempt_at: due })));
        expect(await store.notifications.nextDueAt()).toBe(at(10));
        // Claimed rows are `sending`: not pending any more.
        const claimed = await store.notifications.claim(at(50), 10, 60_000);
        expect(claimed.map((n) => n.next_attempt_at)).toEqual([at(10), at(30)]);
        expect(await store.notifications.nextDueAt()).toBe(at(99));
        // A failed attempt waits for its retry: pending again, due then.
        await store.notifications.settle([{ id: claimed[0]!.id, error: 'refused', nextAttemptAt: at(70) }]);
        expect(await store.notifications.nextDueAt()).toBe(at(70));
        await store.notifications.markAttemptFailed(claimed[1]!.id, 'gone', null);
        expect(await store.notifications.nextDueAt()).toBe(at(70));
      });

      it('concurrent claims return disjoint sets', async () => {
        await store.notifications.enqueue(Array.from({ length: 20 }, () => note({ next_attempt_at: at(0) })));
        const batches = await Promise.all([1, 2, 3, 4].map(() => store.notifications.claim(at(1), 7, 60_000)));
        const ids = batches.flat().map((n) => n.id);
        expect(ids).toHaveLength(20);
        expect(new Set(ids).size).toBe(20);
      });

      it('a sending row is reclaimed only once its claim is older than staleAfterMs', async () => {
        const [row] = await store.notifications.enqueue([note({ next_attempt_at: at(0) })]);
        expect(await store.notifications.claim(at(0), 1, 30_000)).toHaveLength(1);
        expect(await store.notifications.claim(at(30), 1, 30_000)).toEqual([]);
        const reclaimed = await store.notifications.claim(at(31), 1, 30_000);
        expect(reclaimed).toMatchObject([{ id: row.id, status: 'sending' }]);
        expect(await store.notifications.claim(at(32), 1, 30_000)).toEqual([]);
      });

      it('claims are stamped and judged stale at leaseNow when given (the store clock), while rows fall due by now', async () => {
        const [row] = await store.notifications.enqueue([note({ next_attempt_at: at(100) })]);
        // Not due at 50 by `now`, however late the lease clock reads.
        expect(await store.notifications.claim(at(50), 1, 30_000, at(3_600))).toEqual([]);
        expect(await store.notifications.claim(at(100), 1, 30_000, at(3_600))).toMatchObject([{ id: row.id, status: 'sending' }]);
        // A claimer whose own clock runs an hour ahead: the claim is fresh by the lease clock...
        expect(await store.notifications.claim(at(7_200), 1, 30_000, at(3_630))).toEqual([]);
        // ...and lapses only once the lease clock passes the lease.
        expect(await store.notifications.claim(at(7_200), 1, 30_000, at(3_631))).toMatchObject([{ id: row.id, status: 'sending' }]);
        await store.notifications.renew([row.id], at(3_700));
        expect(await store.notifications.claim(at(3_600), 1, 30_000, at(3_730))).toEqual([]);
      });

      it('enqueue of an id present already writes nothing and leaves the row as it is', async () => {
        const id = uid('outbox');
        const [row] = await store.notifications.enqueue([note({ id, title: 'first', next_attempt_at: at(0) })]);
        expect(row).toMatchObject({ id, title: 'first', status: 'pending' });
        await store.notifications.claim(at(0), 1, 1000);
        await store.notifications.markSent(id, at(1));
        const again = await store.notifications.enqueue([note({ id, title: 'again', next_attempt_at: at(2) }), note({ title: 'other' })]);
        expect(again.map((n) => n.title)).toEqual(['other']);
        const stored = await store.notifications.list({});
        expect(stored.filter((n) => n.id === id)).toMatchObject([{ title: 'first', status: 'sent', attempts: 1 }]);
        expect(stored).toHaveLength(2);
      });

      it('renew keeps a claim fresh: the row is not reclaimed while renewed, and settled rows are left alone', async () => {
        const [row, other] = await store.notifications.enqueue([note({ next_attempt_at: at(0) }), note({ next_attempt_at: at(0) })]);
        expect(await store.notifications.claim(at(0), 2, 30_000)).toHaveLength(2);
        await store.notifications.markSent(other.id, at(1));
        await store.notifications.renew([row.id, other.id], at(25));
        await store.notifications.renew([], at(26));
        expect(await store.notifications.claim(at(50), 10, 30_000)).toEqual([]);
        expect(await store.notifications.claim(at(56), 10, 30_000)).toMatchObject([{ id: row.id, status: 'sending' }]);
        expect((await store.notifications.list({ status: 'sent' })).map((n) => n.id)).toEqual([other.id]);
      });

      it('markSent records the send and the row is never claimed again', async () => {
        const [row] = await store.notifications.enqueue([note({ next_attempt_at: at(0) })]);
        await store.notifications.claim(at(0), 1, 1000);
        await store.notifications.markSent(row.id, at(2));
        expect(await store.notifications.list({ status: 'sent' })).toMatchObject([{ id: row.id, sent_at: at(2), attempts: 1 }]);
        expect(await store.notifications.claim(at(9999), 10, 1000)).toEqual([]);
      });

      it('markAttemptFailed retries at the given time, or fails for good when given none', async () => {
        const [retried, failed] = await store.notifications.enqueue([1, 2].map(() => note({ next_attempt_at: at(0) })));
        await store.notifications.claim(at(0), 2, 1000);
        await store.notifications.markAttemptFailed(retried.id, 'smtp timeout', at(60));
        await store.notifications.markAttemptFailed(failed.id, 'bad address', null);
        expect(await store.notifications.list({ status: 'pending' })).toMatchObject([
          { id: retried.id, attempts: 1, last_error: 'smtp timeout', next_attempt_at: at(60) },
        ]);
        expect(await store.notifications.list({ status: 'failed' })).toMatchObject([
          { id: failed.id, attempts: 1, last_error: 'bad address' },
        ]);
        expect(await store.notifications.claim(at(59), 10, 1000)).toEqual([]);
        expect((await store.notifications.claim(at(60), 10, 1000)).map((n) => n.id)).toEqual([retried.id]);
      });

      it('marks leave a row that is not sending alone', async () => {
        const [row] = await store.notifications.enqueue([note({ next_attempt_at: at(0) })]);
        await store.notifications.markSent(row.id, at(1));
        await store.notifications.markAttemptFailed(row.id, 'late', null);
        expect(await store.notifications.list({})).toMatchObject([{ id: row.id, status: 'pending', attempts: 0, sent_at: null }]);
        await store.notifications.claim(at(0), 1, 1000);
        await store.notifications.markSent(row.id, at(1));
        await store.notifications.markAttemptFailed(row.id, 'late', at(5));
        expect(await store.notifications.list({})).toMatchObject([{ id: row.id, status: 'sent', attempts: 1, last_error: null }]);
      });

      it('lastSent finds the newest sent row with the key since a time', async () => {
        const [key, other] = [uid('dedup'), uid('dedup')];
        const rows = await store.notifications.enqueue([
          note({ dedup_key: key, next_attempt_at: at(0) }),
          note({ dedup_key: key, next_attempt_at: at(1) }),
          note({ dedup_key: other, next_attempt_at: at(2) }),
          note({ dedup_key: key, next_attempt_at: at(999) }),
        ]);
        await store.notifications.claim(at(10), 3, 1000);
        await Promise.all(rows.slice(0, 3).map((row, i) => store.notifications.markSent(row.id, at(100 + i))));
        expect(await store.notifications.lastSent(key, at(0))).toMatchObject({ id: rows[1].id, sent_at: at(101) });
        expect(await store.notifications.lastSent(key, at(101))).toMatchObject({ id: rows[1].id });
        expect(await store.notifications.lastSent(key, at(102))).toBeUndefined();
        expect(await store.notifications.lastSent(uid('dedup'), at(0))).toBeUndefined();
      });

      it('lastSent narrowed to a channel ignores rows of other channels', async () => {
        const key = uid('dedup');
        const [email, slack] = await store.notifications.enqueue([
          note({ channel: 'email', dedup_key: key, next_attempt_at: at(0) }),
          note({ channel: 'slack', dedup_key: key, next_attempt_at: at(0) }),
        ]);
        await store.notifications.claim(at(1), 2, 1000);
        await store.notifications.markSent(email.id, at(10));
        expect(await store.notifications.lastSent(key, at(0), 'email')).toMatchObject({ id: email.id });
        expect(await store.notifications.lastSent(key, at(0), 'slack')).toBeUndefined();
        await store.notifications.markSent(slack.id, at(20));
        expect(await store.notifications.lastSent(key, at(0), 'email')).toMatchObject({ id: email.id });
        expect(await store.notifications.lastSent(key, at(0))).toMatchObject({ id: slack.id });
      });

      it('settle records a batch of results at once: sent, retried, failed; rows not sending stay', async () => {
        const [sent, retried, failed, idle] = await store.notifications.enqueue([0, 1, 2].map((i) => note({ next_attempt_at: at(i) })).concat(note({ next_attempt_at: at(500) })));
        await store.notifications.claim(at(10), 3, 1000);
        await store.notifications.settle([
          { id: sent.id, sentAt: at(20) },
          { id: retried.id, error: 'smtp timeout', nextAttemptAt: at(60) },
          { id: failed.id, error: 'bad address', nextAttemptAt: null },
          { id: idle.id, sentAt: at(20) },
        ]);
        await store.notifications.settle([]);
        expect(await store.notifications.list({ status: 'sent' })).toMatchObject([{ id: sent.id, sent_at: at(20), attempts: 1 }]);
        expect(await store.notifications.list({ status: 'pending' })).toMatchObject([
          { id: idle.id, attempts: 0, sent_at: null },
          { id: retried.id, attempts: 1, last_error: 'smtp timeout', next_attempt_at: at(60) },
        ]);
        expect(await store.notifications.list({ status: 'failed' })).toMatchObject([{ id: failed.id, attempts: 1, last_error: 'bad address' }]);
        expect((await store.notifications.claim(at(60), 10, 1000)).map((n) => n.id)).toEqual([retried.id]);
      });

      it('settle records a repeat as sent at the covering send, naming it; the dedup look-ups answer sends only', async () => {
        const key = uid('dedup');
        const [first, repeat] = await store.notifications.enqueue([0, 1].map((i) => note({ dedup_key: key, next_attempt_at: at(i) })));
        await store.notifications.claim(at(10), 2, 1000);
        await store.notifications.settle([
          { id: first.id, sentAt: at(20) },
          { id: repeat.id, sentAt: at(20), coveredBy: first.id },
        ]);
        const sent = await store.notifications.list({ status: 'sent' });
        expect(sent.find((n) => n.id === repeat.id)).toMatchObject({ sent_at: at(20), attempts: 1, covered_by: first.id });
        expect(sent.find((n) => n.id === first.id)).toMatchObject({ sent_at: at(20), covered_by: null });
        expect(await store.notifications.lastSent(key, at(0))).toMatchObject({ id: first.id });
        expect(await store.notifications.lastSentAmong([{ dedupKey: key, channel: 'console' }], at(0))).toMatchObject([{ id: first.id, sent_at: at(20) }]);
      });

      it('settle rejects a bad time and records nothing of the batch', async () => {
        const [a, b] = await store.notifications.enqueue([0, 1].map(() => note({ next_attempt_at: at(0) })));
        await store.notifications.claim(at(1), 2, 1000);
        await expect(store.notifications.settle([{ id: a.id, sentAt: at(5) }, { id: b.id, sentAt: 'not a time' }])).rejects.toBeInstanceOf(StoreError);
        expect((await store.notifications.list({ status: 'sending' })).map((n) => n.id).sort()).toEqual([a.id, b.id].sort());
      });

      it('lastSentAmong answers the newest send of each (key, channel) pair asked for, since a time, in one call', async () => {
        const [k1, k2, k3] = [uid('dedup'), uid('dedup'), uid('dedup')];
        const rows = await store.notifications.enqueue([
          note({ channel: 'email', dedup_key: k1, next_attempt_at: at(0) }),
          note({ channel: 'email', dedup_key: k1, next_attempt_at: at(1) }),
          note({ channel: 'slack', dedup_key: k1, next_attempt_at: at(2) }),
          note({ channel: 'slack', dedup_key: k2, next_attempt_at: at(3) }),
          note({ channel: 'email', dedup_key: k3, next_attempt_at: at(4) }),
        ]);
        await store.notifications.claim(at(10), 5, 1000);
        await store.notifications.settle(rows.map((row, i) => ({ id: row.id, sentAt: at(100 + i) })));
        const found = await store.notifications.lastSentAmong(
          [
            { dedupKey: k1, channel: 'email' },
            { dedupKey: k2, channel: 'slack' },
            { dedupKey: k2, channel: 'email' },
            { dedupKey: k3, channel: 'email' },
          ],
          at(101),
        );
        const byPair = Object.fromEntries(found.map((m) => [`${m.channel}/${m.dedup_key}`, m]));
        expect(Object.keys(byPair).sort()).toEqual([`email/${k1}`, `slack/${k2}`, `email/${k3}`].sort());
        expect(byPair[`email/${k1}`]).toEqual({ id: rows[1].id, channel: 'email', dedup_key: k1, sent_at: at(101) });
        expect(byPair[`slack/${k2}`]).toMatchObject({ id: rows[3].id, sent_at: at(103) });
        // slack/k1 was sent but not asked for; email/k1's first send is before `since`.
        expect(await store.notifications.lastSentAmong([{ dedupKey: k1, channel: 'email' }], at(102))).toEqual([]);
        expect(await store.notifications.lastSentAmong([], at(0))).toEqual([]);
      });

      it('list filters by status, newest first, limited; counts covers every status', async () => {
        const first = await store.notifications.enqueue([note({ title: 'first', next_attempt_at: at(0) })]);
        await new Promise((resolve) => setTimeout(resolve, 5));
        const second = await store.notifications.enqueue([note({ title: 'second', next_attempt_at: at(0) })]);
        await new Promise((resolve) => setTimeout(resolve, 5));
        await store.notifications.enqueue([note({ title: 'later', next_attempt_at: at(500) })]);
        expect((await store.notifications.list({ limit: 1 })).map((n) => n.title)).toEqual(['later']);
        await store.notifications.claim(at(1), 2, 1000);
        await store.notifications.markSent(first[0].id, at(2));
        expect((await store.notifications.list({ status: 'sent' })).map((n) => n.id)).toEqual([first[0].id]);
        expect((await store.notifications.list({ status: 'sending' })).map((n) => n.id)).toEqual([second[0].id]);
        expect(await store.notifications.counts()).toEqual({ pending: 1, sending: 1, sent: 1, failed: 0, suppressed: 0 });
      });

      it('deleteSentBefore deletes old sent rows only', async () => {
        const rows = await store.notifications.enqueue(Array.from({ length: 4 }, () => note({ next_attempt_at: at(0) })));
        await store.notifications.claim(at(0), 4, 1000);
        await store.notifications.markSent(rows[0].id, at(10));
        await store.notifications.markSent(rows[1].id, at(100));
        await store.notifications.markAttemptFailed(rows[2].id, 'x', null);
        await store.notifications.markAttemptFailed(rows[3].id, 'x', at(5));
        expect(await store.notifications.deleteSentBefore(at(50))).toBe(1);
        expect(await store.notifications.counts()).toEqual({ pending: 1, sending: 0, sent: 1, failed: 1, suppressed: 0 });
      });

      it('property: claims never hand out a row that is sending under a fresh claim', async () => {
        const staleAfterMs = 3000;
        type ModelRow = { status: NotificationStatus; due: number; claimedAt: number };
        const op = fc.oneof(
          fc.record({ kind: fc.constant('enqueue' as const), count: fc.integer({ min: 1, max: 3 }), dueIn: fc.nat(3) }),
          fc.record({ kind: fc.constant('claim' as const), limit: fc.integer({ min: 1, max: 4 }) }),
          fc.record({ kind: fc.constant('sent' as const), pick: fc.nat() }),
          fc.record({ kind: fc.constant('fail' as const), pick: fc.nat(), retryIn: fc.option(fc.nat(5), { freq: 2 }) }),
          fc.record({ kind: fc.constant('tick' as const), seconds: fc.integer({ min: 1, max: 4 }) }),
        );
        await fc.assert(
          fc.asyncProperty(fc.array(op, { minLength: 10, maxLength: 40 }), async (ops) => {
            const s = await fresh();
            const model = new Map<string, ModelRow>();
            let now = 0;
            const claimable = (row: ModelRow): boolean =>
              (row.status === 'pending' && row.due <= now) ||
              (row.status === 'sending' && (now - row.claimedAt) * 1000 > staleAfterMs);
            for (const o of ops) {
              switch (o.kind) {
                case 'tick':
                  now += o.seconds;
                  break;
                case 'enqueue': {
                  const due = now + o.dueIn;
                  const rows = await s.notifications.enqueue(Array.from({ length: o.count }, () => note({ next_attempt_at: at(due) })));
                  for (const row of rows) model.set(row.id, { status: 'pending', due, claimedAt: -1 });
                  break;
                }
                case 'claim': {
                  const available = [...model.values()].filter(claimable).length;
                  const claimed = await s.notifications.claim(at(now), o.limit, staleAfterMs);
                  expect(claimed).toHaveLength(Math.min(o.limit, available));
                  expect(new Set(claimed.map((n) => n.id)).size).toBe(claimed.length);
                  for (const { id } of claimed) {
                    const row = model.get(id)!;
                    expect(claimable(row)).toBe(true);
                    Object.assign(row, { status: 'sending', claimedAt: now });
                  }
                  break;
                }
                case 'sent':
                case 'fail': {
                  const held = [...model].filter(([, row]) => row.status === 'sending');
                  if (held.length === 0) break;
                  const [id, row] = held[o.pick % held.length];
                  if (o.kind === 'sent') {
                    await s.notifications.markSent(id, at(now));
                    row.status = 'sent';
                  } else if (o.retryIn === null) {
                    await s.notifications.markAttemptFailed(id, 'boom', null);
                    row.status = 'failed';
                  } else {
                    await s.notifications.markAttemptFailed(id, 'boom', at(now + o.retryIn));
                    Object.assign(row, { status: 'pending', due: now + o.retryIn });
                  }
                }
              }
            }
            const expected = { pending: 0, sending: 0, sent: 0, failed: 0, suppressed: 0 };
            for (const row of model.values()) expected[row.status] += 1;
            expect(await s.notifications.counts()).toEqual(expected);
            await s.close();
          }),
          { numRuns: 30 },
        );
      }, 60_000); // 30 fresh databases (a PostgreSQL schema each): well over the default 20 s on a loaded machine
    });

    runSilenceContract(() => store);

    describe('plugins', () => {
      it('upsert inserts then replaces; list orders by name', async () => {
        const [b, a] = [`b-${uid('plugin')}`, `a-${uid('plugin')}`];
        await store.plugins.upsert(health(b));
        await store.plugins.upsert(health(a, { last_run_at: null, last_success_at: null }));
        const failing = health(b, {
          status: 'unhealthy',
          last_error: 'timeout',
          consecutive_failures: 5,
          total_runs: 9,
          total_failures: 6,
          success_rate: 1 / 3,
        });
        await store.plugins.upsert(failing);
        expect(await store.plugins.list()).toEqual([health(a, { last_run_at: null, last_success_at: null }), failing]);
      });
    });

    describe('analytics', () => {
      it('list returns snapshots since a time, oldest first, the newest `limit` of them', async () => {
        for (const second of [30, 10, 20, 40]) await store.analytics.insert(snapshot(at(second), second));
        expect((await store.analytics.list()).map((s) => s.firing)).toEqual([10, 20, 30, 40]);
        expect(await store.analytics.list(at(40))).toEqual([snapshot(at(40), 40)]);
        expect((await store.analytics.list(at(20), 2)).map((s) => s.firing)).toEqual([30, 40]);
        expect((await store.analytics.list(undefined, 1)).map((s) => s.firing)).toEqual([40]);
      });

      it('deleteBefore removes older snapshots and counts them', async () => {
        for (const second of [10, 20, 30]) await store.analytics.insert(snapshot(at(second)));
        expect(await store.analytics.deleteBefore(at(30))).toBe(2);
        expect(await store.analytics.list()).toEqual([snapshot(at(30))]);
      });
    });
  });
}
