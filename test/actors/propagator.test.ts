import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createActor, fromPromise } from 'xstate';
import { propagatorMachine, type ResponseReport, type SendRequest, type SendResult } from '../../src/actors/propagator.ts';

/** A propagator whose send and health check are functions of the test. */
function propagator(options: {
  send: (request: SendRequest, signal: AbortSignal) => Promise<SendResult>;
  checkHealth?: (signal: AbortSignal) => Promise<void>;
  payloadCount?: number;
  periodMs?: number;
}) {
  const reports: ResponseReport[] = [];
  const skipped: number[] = [];
  const machine = propagatorMachine.provide({
    actors: {
      send: fromPromise<SendResult, SendRequest>(({ input, signal }) => options.send(input, signal)),
      checkHealth: fromPromise<void>(({ signal }) => (options.checkHealth ?? (async () => {}))(signal)),
    },
    actions: {
      reportResponse: (_, report) => void reports.push(report),
      reportSkipped: (_, { n }) => void skipped.push(n),
    },
  });
  const actor = createActor(machine, {
    input: { periodMs: options.periodMs ?? 1_000, payloadCount: options.payloadCount ?? 3, healthCheck: Boolean(options.checkHealth), stopGraceMs: 4_000 },
  });
  return { actor, reports, skipped };
}

const delay = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(new Error('aborted'));
    });
  });

describe('propagatorMachine', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sends the payloads round robin, one per tick, reporting count, status and failure rate', async () => {
    const indexes: number[] = [];
    let calls = 0;
    const p = propagator({
      send: async ({ index }) => {
        indexes.push(index);
        if (++calls === 2) throw Object.assign(new Error('POST answered 400'), { status: 400 });
        return { status: 200, attempts: 1 };
      },
    });
    p.actor.start();
    p.actor.send({ type: 'START' });
    await vi.advanceTimersByTimeAsync(4_000);
    expect(indexes).toEqual([0, 1, 2, 0]);
    expect(p.reports.map((r) => [r.ok, r.status, r.count, r.failureRate])).toEqual([
      [true, 200, 1, 0],
      [false, 400, 2, 0.5],
      [true, 200, 3, 1 / 3],
      [true, 200, 4, 0.25],
    ]);
    expect(p.actor.getSnapshot().context).toMatchObject({ count: 4, succeeded: 3, failed: 1, nextIndex: 1 });
    p.actor.stop();
  });

  it('a send still in flight at the next tick makes it skipped, and the schedule stays on its slots', async () => {
    const started: number[] = [];
    const t0 = Date.now();
    const p = propagator({
      send: async ({ tick }) => {
        started.push(tick.scheduledAt - t0);
        await delay(1_500);
        return { status: 200, attempts: 1 };
      },
    });
    p.actor.start();
    p.actor.send({ type: 'START' });
    await vi.advanceTimersByTimeAsync(5_100);
    expect(started).toEqual([1_000, 3_000, 5_000]);
    expect(p.skipped).toEqual([2, 4]);
    p.actor.stop();
  });

  it('sends nothing until the health check passes', async () => {
    let healthy = false;
    const sends: number[] = [];
    const p = propagator({
      checkHealth: async (signal) => {
        while (!healthy) await delay(100, signal);
      },
      send: async ({ index }) => {
        sends.push(index);
        return { status: 200, attempts: 1 };
      },
    });
    p.actor.start();
    p.actor.send({ type: 'START' });
    await vi.advanceTimersByTimeAsync(3_000);
    expect(p.actor.getSnapshot().value).toBe('checkingHealth');
    expect(sends).toEqual([]);
    healthy = true;
    await vi.advanceTimersByTimeAsync(1_200);
    expect(sends).toEqual([0]);
    p.actor.stop();
  });

  it('on STOP finishes the send in flight, or aborts it after the grace period', async () => {
    let aborted = false;
    const p = propagator({
      send: async (_, signal) => {
        signal.addEventListener('abort', () => (aborted = true));
        await delay(60_000);
        return { status: 200, attempts: 1 };
      },
    });
    p.actor.start();
    p.actor.send({ type: 'START' });
    await vi.advanceTimersByTimeAsync(1_100);
    p.actor.send({ type: 'STOP' });
    await vi.advanceTimersByTimeAsync(3_900);
    expect(p.actor.getSnapshot().status).toBe('active');
    await vi.advanceTimersByTimeAsync(200);
    expect(p.actor.getSnapshot().status).toBe('done');
    expect(aborted).toBe(true);

    const quick = propagator({ send: async () => (await delay(300), { status: 201, attempts: 1 }) });
    quick.actor.start();
    quick.actor.send({ type: 'START' });
    await vi.advanceTimersByTimeAsync(1_100);
    quick.actor.send({ type: 'STOP' });
    await vi.advanceTimersByTimeAsync(300);
    expect(quick.actor.getSnapshot().status).toBe('done');
    expect(quick.reports.map((r) => r.status)).toEqual([201]);
  });
});
