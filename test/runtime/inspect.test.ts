import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { loadConfig, DEFAULT_INSPECT_URL } from '../../src/config.ts';
import { createRuntime, type Runtime } from '../../src/runtime.ts';
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
    runtime = createRuntime({ env: { ...env, INSPECT: `ws://127.0.0.1:${port}` } });
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
});
