import { describe, expect, it } from 'vitest';
import type { SilenceInput } from '../../src/domain/silence.ts';
import type { Store } from '../../src/storage/store.ts';
import { at, note, uid } from './store.fixtures.ts';

const silenceInput = (overrides: Partial<SilenceInput> = {}): SilenceInput => ({
  rule_id: null,
  device_id: null,
  metric: null,
  severity: null,
  starts_at: at(0),
  ends_at: at(3600),
  created_by: 'ops',
  comment: 'maintenance',
  ...overrides,
});

/** Waits until the clock has passed `iso` (stored times have millisecond precision). */
async function clockPast(iso: string): Promise<void> {
  while (Date.now() <= Date.parse(iso)) await new Promise((resolve) => setImmediate(resolve));
}

/** The contract of the notification log and the silences repository; `store()` is the current test's migrated store. */
export function runSilenceContract(store: () => Store): void {
  describe('notification log', () => {
    it('search filters on status, channel, rule and creation time, newest first, up to the limit', async () => {
      const rule = uid('rule');
      const [first] = await store().notifications.enqueue([note({ alert_id: rule, channel: 'email' })]);
      await clockPast(first!.created_at);
      const [second, third] = await store().notifications.enqueue([note({ alert_id: rule }), note({ alert_id: uid('other') })]);
      const ids = async (filter: Parameters<Store['notificationLog']['search']>[0]) => (await store().notificationLog.search(filter)).map((n) => n.id);

      expect(await ids({ limit: 10 })).toEqual([third!.id, second!.id, first!.id]);
      expect(await ids({ limit: 2 })).toEqual([third!.id, second!.id]);
      expect(await ids({ alertId: rule, limit: 10 })).toEqual([second!.id, first!.id]);
      expect(await ids({ channel: 'email', limit: 10 })).toEqual([first!.id]);
      expect(await ids({ alertId: rule, channel: 'console', limit: 10 })).toEqual([second!.id]);
      expect(await ids({ since: second!.created_at, limit: 10 })).toEqual([third!.id, second!.id]);
      expect(await ids({ since: at(99_999_999), limit: 10 })).toEqual([]);
      expect(await ids({ status: 'sent', limit: 10 })).toEqual([]);
      expect((await store().notificationLog.search({ alertId: rule, channel: 'email', limit: 1 }))[0]).toMatchObject({ ...note({ alert_id: rule, channel: 'email' }), metadata: {}, status: 'pending' });
    });
  });

  describe('silences', () => {
    it('create assigns an id and keeps every field; get and list return it', async () => {
      const created = await store().silences.create(silenceInput({ rule_id: 'r1', device_id: 'd1', metric: 'temp', severity: 'critical' }));
      expect(created).toMatchObject({ rule_id: 'r1', device_id: 'd1', metric: 'temp', severity: 'critical', starts_at: at(0), ends_at: at(3600), created_by: 'ops', comment: 'maintenance' });
      expect(created.id).toEqual(expect.any(String));
      expect(await store().silences.get(created.id)).toEqual(created);
      expect(await store().silences.get('nothing')).toBeUndefined();
      const later = await store().silences.create(silenceInput());
      expect((await store().silences.list()).map((s) => s.id)).toEqual([later.id, created.id]);
    });

    it('unexpired lists the silences ending after a time; expire ends one no later than it ended', async () => {
      const short = await store().silences.create(silenceInput({ ends_at: at(60) }));
      const long = await store().silences.create(silenceInput({ ends_at: at(600) }));
      expect((await store().silences.unexpired(at(30))).map((s) => s.id)).toEqual([short.id, long.id]);
      expect((await store().silences.unexpired(at(60))).map((s) => s.id)).toEqual([long.id]);
      expect(await store().silences.expire(long.id, at(100))).toMatchObject({ id: long.id, ends_at: at(100) });
      expect(await store().silences.expire(short.id, at(100))).toMatchObject({ id: short.id, ends_at: at(60) });
      expect(await store().silences.expire('nothing', at(100))).toBeUndefined();
      expect(await store().silences.unexpired(at(100))).toEqual([]);
    });

    it('suppress marks claimed rows suppressed, leaves others, and suppressed rows are never claimed again', async () => {
      const [claimed, waiting] = await store().notifications.enqueue([note({ next_attempt_at: at(0) }), note({ next_attempt_at: at(500) })]);
      expect((await store().notifications.claim(at(1), 10, 1_000)).map((n) => n.id)).toEqual([claimed!.id]);
      await store().silences.suppress([claimed!.id, waiting!.id]);
      expect(await store().notificationLog.search({ status: 'suppressed', limit: 10 })).toMatchObject([{ id: claimed!.id }]);
      expect(await store().notificationLog.search({ status: 'pending', limit: 10 })).toMatchObject([{ id: waiting!.id }]);
      expect((await store().notifications.counts()).suppressed).toBe(1);
      expect((await store().notifications.claim(at(99_999), 10, 1_000)).map((n) => n.id)).toEqual([waiting!.id]);
      await store().silences.suppress([]);
    });

    it('deleteBefore removes silences ended and suppressed rows created before the cutoff, nothing else', async () => {
      const ended = await store().silences.create(silenceInput({ ends_at: at(60) }));
      const running = await store().silences.create(silenceInput({ ends_at: at(600) }));
      const [suppressed, pending] = await store().notifications.enqueue([note({ next_attempt_at: at(0) }), note({ next_attempt_at: at(500) })]);
      await store().notifications.claim(at(1), 1, 1_000);
      await store().silences.suppress([suppressed!.id]);
      expect(await store().silences.deleteBefore('2020-01-01T00:00:00.000Z')).toEqual({ silences: 0, suppressed: 0 });
      // The fixtures' times are in 2030: the rows were created before at(100), the silences end around it.
      expect(await store().silences.deleteBefore(at(100))).toEqual({ silences: 1, suppressed: 1 });
      expect(await store().silences.get(ended.id)).toBeUndefined();
      expect(await store().silences.get(running.id)).toBeDefined();
      expect((await store().notificationLog.search({ limit: 10 })).map((n) => n.id)).toEqual([pending!.id]);
    });
  });
}
