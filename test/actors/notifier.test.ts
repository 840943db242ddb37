import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createActor, fromPromise } from 'xstate';
import { notifierMachine, type ClaimedRow, type DeliveryOutcome } from '../../src/actors/notifier.ts';
import type { Notification } from '../../src/domain/notification.ts';

const row = (id: string, channel: string): Notification => ({
  id,
  channel,
  severity: 'error',
  title: id,
  message: '',
  metadata: {},
  alert_id: null,
  dedup_key: null,
  status: 'sending',
  attempts: 0,
  last_error: null,
  next_attempt_at: '2026-01-01T00:00:00.000Z',
  created_at: '2026-01-01T00:00:00.000Z',
  sent_at: null,
  covered_by: null,
});

/** A notifier whose outbox is an array the test fills and whose deliveries the test settles. */
function notifier(pollMs = 1_000) {
  const outbox: ClaimedRow[] = [];
  const delivering: ClaimedRow[] = [];
  let claims = 0;
  const machine = notifierMachine.provide({
    actors: {
      claim: fromPromise<ClaimedRow[]>(async () => {
        claims++;
        return outbox.splice(0);
      }),
    },
    actions: { deliver: (_, { claimed }) => void delivering.push(...claimed) },
  });
  const actor = createActor(machine, { input: { pollMs } });
  const outcome = (id: string, lane: string, kind: DeliveryOutcome['kind'], extra: Partial<DeliveryOutcome> = {}) =>
    actor.send({ type: 'DELIVERED', outcome: { id, lane, kind, ...extra } });
  return { actor, outbox, delivering, outcome, claims: () => claims };
}

const add = (outbox: ClaimedRow[], id: string, lane: string) => outbox.push({ row: row(id, lane), lane });

describe('notifierMachine', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('claims at start, then on every poll, and hands every row to delivery without waiting for it', async () => {
    const n = notifier();
    add(n.outbox, 'a', 'email');
    n.actor.start();
    n.actor.send({ type: 'START' });
    await vi.advanceTimersByTimeAsync(0);
    expect(n.delivering.map((c) => c.row.id)).toEqual(['a']);
    add(n.outbox, 'b', 'slack');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(n.delivering.map((c) => c.row.id)).toEqual(['a', 'b']);
    expect(n.actor.getSnapshot().context.lanes).toMatchObject({ email: { inFlight: 1 }, slack: { inFlight: 1 } });
    expect(n.claims()).toBe(2);
    n.actor.stop();
  });

  it('WAKE claims at once; a WAKE during a claim claims again right after', async () => {
    const n = notifier(60_000);
    n.actor.start();
    n.actor.send({ type: 'START' });
    n.actor.send({ type: 'WAKE' });
    await vi.advanceTimersByTimeAsync(0);
    expect(n.claims()).toBe(2);
    add(n.outbox, 'x', 'email');
    n.actor.send({ type: 'WAKE' });
    await vi.advanceTimersByTimeAsync(0);
    expect(n.delivering.map((c) => c.row.id)).toEqual(['x']);
    n.actor.stop();
  });

  it('HANDED rows go to delivery with no claim; handed during a claim, they go right after the rows it claimed', async () => {
    let release!: () => void;
    const outbox: ClaimedRow[] = [];
    const batches: string[][] = [];
    let claims = 0;
    const machine = notifierMachine.provide({
      actors: {
        claim: fromPromise<ClaimedRow[]>(async () => {
          claims++;
          const taken = outbox.splice(0);
          if (taken.length > 0) await new Promise<void>((resolve) => (release = resolve));
          return taken;
        }),
      },
      actions: { deliver: (_, { claimed }) => void (claimed.length > 0 && batches.push(claimed.map((c) => c.row.id))) },
    });
    const actor = createActor(machine, { input: { pollMs: 60_000 } }).start();
    actor.send({ type: 'START' });
    await vi.advanceTimersByTimeAsync(0);
    expect(claims).toBe(1);
    // Waiting: delivered at once, in lanes, and no claim made for them.
    actor.send({ type: 'HANDED', claimed: [{ row: row('h1', 'email'), lane: 'email' }] });
    expect(batches).toEqual([['h1']]);
    expect(claims).toBe(1);
    expect(actor.getSnapshot().context.lanes).toMatchObject({ email: { inFlight: 1 } });
    // Claiming: held until the claim is done, then delivered after the claimed rows, in one batch.
    add(outbox, 'c1', 'email');
    actor.send({ type: 'WAKE' });
    await vi.advanceTimersByTimeAsync(0);
    actor.send({ type: 'HANDED', claimed: [{ row: row('h2', 'email'), lane: 'email' }] });
    await vi.advanceTimersByTimeAsync(0);
    expect(batches).toEqual([['h1']]);
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(batches).toEqual([['h1'], ['c1', 'h2']]);
    expect(actor.getSnapshot().context).toMatchObject({ handed: [], lanes: { email: { inFlight: 3 } } });
    actor.stop();
  });

  it('HANDED while stopping with deliveries in flight is delivered too, and the stop waits for it', async () => {
    const n = notifier();
    add(n.outbox, 'a', 'email');
    n.actor.start();
    n.actor.send({ type: 'START' });
    await vi.advanceTimersByTimeAsync(0);
    n.actor.send({ type: 'STOP' });
    expect(n.actor.getSnapshot().value).toBe('draining');
    n.actor.send({ type: 'HANDED', claimed: [{ row: row('h', 'email'), lane: 'email' }] });
    expect(n.delivering.map((c) => c.row.id)).toEqual(['a', 'h']);
    n.outcome('a', 'email', 'sent');
    expect(n.actor.getSnapshot().value).toBe('draining');
    n.outcome('h', 'email', 'sent');
    expect(n.actor.getSnapshot().status).toBe('done');
  });

  it('keeps one lane per channel: a channel backing off leaves the others ready and counting', async () => {
    const n = notifier();
    add(n.outbox, 'e1', 'email');
    add(n.outbox, 's1', 'slack');
    n.actor.start();
    n.actor.send({ type: 'START' });
    await vi.advanceTimersByTimeAsync(0);
    n.outcome('e1', 'email', 'retrying', { error: 'smtp down', nextAttemptAt: '2026-01-01T00:00:01.000Z' });
    n.outcome('s1', 'slack', 'sent');
    const { context } = n.actor.getSnapshot();
    expect(context.lanes.email).toEqual({ status: 'backingOff', inFlight: 0, consecutiveFailures: 1, lastError: 'smtp down', retryAt: '2026-01-01T00:00:01.000Z' });
    expect(context.lanes.slack).toMatchObject({ status: 'ready', consecutiveFailures: 0 });
    expect(context).toMatchObject({ sent: 1, retried: 1 });
    n.outcome('e1', 'email', 'failed', { error: 'gave up', fellBack: true });
    expect(n.actor.getSnapshot().context).toMatchObject({ failed: 1, fellBack: 1, lanes: { email: { consecutiveFailures: 2 } } });
    n.actor.stop();
  });

  it('on STOP, waits for the deliveries in flight, then stops', async () => {
    const n = notifier();
    add(n.outbox, 'a', 'email');
    add(n.outbox, 'b', 'email');
    n.actor.start();
    n.actor.send({ type: 'START' });
    await vi.advanceTimersByTimeAsync(0);
    n.actor.send({ type: 'STOP' });
    expect(n.actor.getSnapshot().value).toBe('draining');
    n.outcome('a', 'email', 'sent');
    expect(n.actor.getSnapshot().value).toBe('draining');
    n.outcome('b', 'email', 'deduplicated');
    expect(n.actor.getSnapshot().status).toBe('done');
    expect(n.actor.getSnapshot().context).toMatchObject({ sent: 1, deduplicated: 1 });
  });

  it('restores its counts and lanes (with nothing in flight)', () => {
    const restored = { sent: 7, lanes: { email: { status: 'ready' as const, inFlight: 3, consecutiveFailures: 0, lastError: null, retryAt: null } } };
    const actor = createActor(notifierMachine, { input: { pollMs: 1_000, restored } });
    expect(actor.getSnapshot().context).toMatchObject({ sent: 7, lanes: { email: { inFlight: 0 } } });
  });
});
