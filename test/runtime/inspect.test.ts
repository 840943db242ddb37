import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { loadConfig, DEFAULT_INSPECT_URL } from '../../src/config/index.ts';
import { createRuntime, type Runtime } from '../../src/create-runtime.ts';
import { rule } from '../actors/alert.fixtures.ts';

const env = { DATABASE_URL: 'sqlite::memory:', PUBLISH_INTERVAL_SECONDS: '0.1', BATCH_WAIT_MS: '20', LOG_LEVEL: 'silent' };

describe('--inspect', () => {
  let runtime: Runtime | undefined;
  let server: WebSocketServer | undefined;
  afterEach(async () => {
    await runtime?.stop();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  });

  it('means the inspector default URL when given no value, and is off by default', () => {
    expect(loadConfig({ env: {} }).inspect).toBeUndefined();
    expect(loadConfig({ overrides: { INSPECT: true } }).inspect).toBe(DEFAULT_INSPECT_URL);
    expect(loadConfig({ overrides: { INSPECT: 'ws://127.0.0.1:9000' } }).inspect).toBe('ws://127.0.0.1:9000');
    expect(() => loadConfig({ overrides: { INSPECT: 'http://x' } })).toThrow(/INSPECT/);
  });

  it('connects every actor to the Stately inspector over WebSocket', async () => {
    server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const received: Array<{ type: string; definition?: string; event?: { type?: string } }> = [];
    server.on('connection', (socket) => socket.on('message', (data) => received.push(JSON.parse(String(data)))));
    runtime = createRuntime({ inheritEnv: false, env: { ...env, INSPECT: `ws://127.0.0.1:${port}` } });
    await runtime.store.migrate();
    await runtime.store.rules.create({ ...rule(), id: 'inspected' });
    await runtime.start({ listen: false });
    // Every kind of actor the runtime registered (publisher, subscriber, rule, alert worker, notifier…).
    const expected = new Set([...runtime.actors.entries()].map((entry) => entry.machine.id));
    expect(expected.has('alert')).toBe(true);
    const deadline = Date.now() + 5_000;
    const seen = () => new Set(received.filter((e) => e.type === '@xstate.actor' && e.definition).map((e) => JSON.parse(e.definition!).id as string));
    const complete = () => [...expected].every((id) => seen().has(id)) && received.some((e) => e.type === '@xstate.event' && e.event?.type === 'TICK');
    while (Date.now() < deadline && !complete()) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect([...seen()].sort()).toEqual(expect.arrayContaining([...expected].sort()));
    expect(received.some((e) => e.type === '@xstate.snapshot')).toBe(true);
    expect(received.some((e) => e.type === '@xstate.event' && e.event?.type === 'TICK')).toBe(true);
  });

  it('replays every live machine with its current snapshot to a relay that comes late, leaves short-lived children out, and logs connected only once connected', { timeout: 60_000 }, async () => {
    // A port nothing listens on yet.
    const probe = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(probe, 'listening');
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({ write(chunk, _encoding, done) { for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line)); done(); } });
    runtime = createRuntime({ inheritEnv: false, env: { ...env, LOG_LEVEL: 'info', INSPECT: `ws://127.0.0.1:${port}` }, logger: pino({ level: 'info' }, sink) });
    await runtime.store.migrate();
    await runtime.store.rules.create({ ...rule(), id: 'late' });
    await runtime.start({ listen: false });
    const waitFor = async (condition: () => boolean, ms: number) => {
      const deadline = Date.now() + ms;
      while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
      return condition();
    };
    expect(await waitFor(() => lines.some((l) => l.msg === 'Stately inspector connection failed; retrying'), 10_000)).toBe(true);
    expect(lines.some((l) => l.msg === 'connected to the Stately inspector')).toBe(false);
    // Let the runtime run (publisher ticks, notifier polls) before anything listens.
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    server = new WebSocketServer({ host: '127.0.0.1', port });
    await once(server, 'listening');
    const received: Array<{ type: string; sessionId: string; name?: string; definition?: string; snapshot?: { value?: unknown } }> = [];
    server.on('connection', (socket) => socket.on('message', (data) => received.push(JSON.parse(String(data)))));
    const live = [...runtime.actors.entries()].map((entry) => entry.actor.sessionId);
    const replayed = () => new Set(received.filter((e) => e.type === '@xstate.actor' && e.definition).map((e) => e.sessionId));
    expect(await waitFor(() => live.every((id) => replayed().has(id)), 20_000)).toBe(true);
    expect(lines.some((l) => l.msg === 'connected to the Stately inspector')).toBe(true);
    // Each replayed actor carries its current snapshot, not its first one.
    const publisher = received.find((e) => e.type === '@xstate.actor' && e.sessionId === runtime!.actors.get('publisher')!.actor.sessionId)!;
    expect(JSON.stringify(publisher.snapshot?.value)).toContain('running');
    // Every actor sent is a machine: no promise or callback children (claims, deliveries, clocks).
    for (const e of received.filter((m) => m.type === '@xstate.actor')) expect(JSON.parse(e.definition ?? 'null')).toMatchObject({ states: expect.any(Object) });
  });

  it('serves its own bridge (INSPECT_PORT) whose every viewer, however late, is sent the definition and current snapshot of each live actor, then live messages', { timeout: 60_000 }, async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({ write(chunk, _encoding, done) { for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line)); done(); } });
    runtime = createRuntime({ inheritEnv: false, env: { ...env, PUBLISH_INTERVAL_SECONDS: '0.05', LOG_LEVEL: 'info', INSPECT_PORT: '0' }, logger: pino({ level: 'info' }, sink) });
    await runtime.store.migrate();
    await runtime.store.rules.create({ ...rule(), id: 'bridged' });
    await runtime.start({ listen: false });
    const waitFor = async (condition: () => boolean, ms: number) => {
      const deadline = Date.now() + ms;
      while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
      return condition();
    };
    const url = lines.find((l) => String(l.msg).startsWith('inspector bridge listening'))?.url as string;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<iframe id="inspector" src="https://stately.ai/inspect">');

    type Message = { type: string; sessionId: string; definition?: string; snapshot?: { value?: unknown; status?: string }; event?: { type?: string } };
    const viewer = (): { messages: Message[]; socket: WebSocket } => {
      const messages: Message[] = [];
      const socket = new WebSocket(url.replace('http:', 'ws:'));
      socket.on('message', (data) => messages.push(JSON.parse(String(data))));
      return { messages, socket };
    };
    // A viewer from the start sees the traffic: far more than the 200 messages a relay would keep.
    const early = viewer();
    expect(await waitFor(() => early.messages.length > 400, 30_000)).toBe(true);

    const live = () => [...runtime!.actors.entries()].map((entry) => entry.actor.sessionId);
    for (const late of [viewer(), viewer()]) {
      const described = () => new Set(late.messages.filter((m) => m.type === '@xstate.actor' && m.definition).map((m) => m.sessionId));
      expect(await waitFor(() => live().every((id) => described().has(id)), 10_000)).toBe(true);
      // One registration per actor, each with a snapshot, before any live message.
      const replay = late.messages.slice(0, late.messages.findIndex((m) => m.type === '@xstate.event'));
      const registered = replay.filter((m) => m.type === '@xstate.actor').map((m) => m.sessionId);
      expect(new Set(registered).size).toBe(registered.length);
      expect(registered).toEqual(expect.arrayContaining(live()));
      for (const m of replay.filter((r) => r.type === '@xstate.actor')) {
        expect(m.snapshot?.status).toBe('active');
        expect(JSON.parse(m.definition!)).toMatchObject({ states: expect.any(Object) });
      }
      const publisher = runtime!.actors.get('publisher')!.actor.sessionId;
      expect(JSON.stringify(replay.find((m) => m.type === '@xstate.actor' && m.sessionId === publisher)?.snapshot?.value)).toContain('running');
      // Then live messages.
      expect(await waitFor(() => late.messages.some((m) => m.type === '@xstate.event' && m.event?.type === 'TICK'), 10_000)).toBe(true);
      late.socket.close();
    }
    early.socket.close();
  });
});
