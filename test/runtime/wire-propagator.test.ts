import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { createRuntime } from '../../src/create-runtime.ts';
import { createLogger } from '../../src/runtime/logger.ts';
import { loadPayloads } from '../../src/runtime/payload-file.ts';
import { ActorRegistry } from '../../src/runtime/registry.ts';
import { createRunReporter } from '../../src/runtime/run-reporter.ts';
import { createPropagatorConcern } from '../../src/runtime/wire-propagator.ts';
import type { Concern } from '../../src/runtime/concern.ts';
import { eventually } from '../e2e/cli.ts';
import { startHttpPeer, type HttpPeer } from '../support/peers.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-propagator-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let peer: HttpPeer;
let concern: Concern | undefined;
beforeEach(async () => {
  peer = await startHttpPeer();
});
afterEach(async () => {
  await concern?.stop();
  concern = undefined;
  await peer.close();
});

// Long enough that an attempt, answered within a slot on a loaded machine, is not cut off by the next.
const PERIOD = 400;

/**
 * How late a send may be: 60 ms, plus how late this process's own timers ran meanwhile (the
 * propagator and the peer share its event loop, which waits for the CPU on a loaded machine).
 */
function lateness() {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  // Two turns of the loop: the propagator's timer, then the peer's handler of the request.
  return { allowed: () => 60 + (2 * delay.max) / 1e6, stop: () => delay.disable() };
}

function propagatorTo(options: { healthCheck?: boolean } = {}) {
  const metrics = new Registry();
  const runs = createRunReporter();
  const reported: boolean[] = [];
  runs.listen((plugin, outcome) => plugin === 'propagator' && reported.push(outcome.ok));
  const registry = new ActorRegistry();
  concern = createPropagatorConcern({
    settings: {
      periodSeconds: 1,
      endpoint: `${peer.url}/events`,
      payloadFile: 'unused',
      ...(options.healthCheck ? { healthCheckEndpoint: `${peer.url}/health` } : {}),
    },
    payloads: [{ n: 0 }, { n: 1 }, { n: 2 }],
    ctx: { logger: createLogger('silent'), metrics, runs, registry },
    backoff: { initialMs: 10, maxMs: 40 },
    periodMs: PERIOD,
  });
  const context = () => registry.get('propagator')!.actor.getSnapshot().context as { count: number; failed: number; succeeded: number; skipped: number };
  return { concern, metrics, reported, context };
}

const sends = () => peer.requests.filter((r) => r.path === '/events');

describe('propagator (real HTTP endpoint)', () => {
  it('POSTs the payloads round robin every period', async () => {
    const p = propagatorTo();
    const late = lateness();
    const started = Date.now();
    await p.concern.start();
    // A tick's first attempt, without its retries: on a loaded machine an attempt can outlast its
    // timeout after the peer has seen it, and the same payload is sent again within the slot.
    const ticks = () => sends().filter((r, i, all) => i === 0 || JSON.stringify(r.body) !== JSON.stringify(all[i - 1]!.body));
    await eventually(async () => (ticks().length >= 4 ? true : undefined), 10_000, 10);
    late.stop();
    const firstFour = ticks().slice(0, 4);
    expect(firstFour.map((r) => r.body)).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }, { n: 0 }]);
    // Tick n on the start + n × period grid: lateness does not add up from one tick to the next.
    firstFour.forEach((r, i) => expect(Math.abs(r.at - started - (i + 1) * PERIOD)).toBeLessThan(late.allowed()));
    expect(await p.metrics.getSingleMetricAsString('vigil_propagator_responses_total')).toContain('status="200"');
  });

  it('against 503: retries with backoff inside each period, and the next sends stay on schedule', async () => {
    peer.mode = 503;
    const p = propagatorTo();
    const late = lateness();
    const started = Date.now();
    await p.concern.start();
    await eventually(async () => (p.context().count >= 3 ? true : undefined), 10_000, 10);
    peer.mode = 200;
    await eventually(async () => (p.context().succeeded >= 1 ? true : undefined), 10_000, 10);
    late.stop();
    const context = p.context();
    expect(context.failed).toBeGreaterThanOrEqual(3);
    expect(context.skipped).toBe(0);
    // More than one attempt per failed tick: the transient 503s were retried.
    expect(sends().length).toBeGreaterThan(context.count);
    // The first attempt of each tick is on its slot, failures or not.
    const firsts = new Map<number, number>();
    for (const r of sends()) {
      const slot = Math.floor((r.at - started + 10) / PERIOD);
      if (!firsts.has(slot)) firsts.set(slot, r.at - started - slot * PERIOD);
    }
    for (const offset of firsts.values()) expect(Math.abs(offset)).toBeLessThan(late.allowed());
    expect(p.reported.slice(0, 3)).toEqual([false, false, false]);
    // Each failed tick is counted by its last answer: 503, or `error` when the slot ended while its
    // last attempt was still in flight (what a loaded machine does to 10–40 ms backoffs).
    const counted = await p.metrics.getSingleMetricAsString('vigil_propagator_responses_total');
    const failedTicks = [...counted.matchAll(/status="(503|error)"\} (\d+)/g)].reduce((n, m) => n + Number(m[2]), 0);
    expect(failedTicks, counted).toBeGreaterThanOrEqual(3);
    expect(counted).not.toMatch(/status="(?!503|error|200)/);
  });

  it('with a failing health check, sends nothing until the endpoint is healthy', async () => {
    peer.modes.set('/health', 503);
    const p = propagatorTo({ healthCheck: true });
    await p.concern.start();
    const checks = () => peer.requests.filter((r) => r.path === '/health').length;
    await eventually(async () => (checks() >= 3 ? true : undefined), 10_000, 10);
    // Two more ticks, each checking the health first: still nothing sent.
    const seen = checks();
    await eventually(async () => (checks() >= seen + 2 ? true : undefined), 10_000, 10);
    expect(sends()).toEqual([]);
    peer.modes.set('/health', 200);
    await eventually(async () => (sends().length >= 1 ? true : undefined), 10_000, 10);
  });

  it('a stop aborts a request that hangs, within the grace period', async () => {
    peer.mode = 'hang';
    const p = propagatorTo();
    await p.concern.start();
    await eventually(async () => (sends().length >= 1 ? true : undefined), 10_000, 10);
    const stopping = Date.now();
    await p.concern.stop();
    concern = undefined;
    expect(Date.now() - stopping).toBeLessThan(4_600);
  });
});

describe('propagator inside vigil run', () => {
  it('runs as an actor of the runtime when the three variables are set', async () => {
    const payloadFile = join(dir, 'run.json');
    writeFileSync(payloadFile, '[{"from":"run"}]');
    const env = { DATABASE_URL: 'sqlite::memory:', LOG_LEVEL: 'silent', PERIOD_IN_SECONDS: '1', HTTP_POST_ENDPOINT: `${peer.url}/events`, PAYLOAD_FILE_PATH: payloadFile };
    const runtime = createRuntime({ inheritEnv: false, env });
    await runtime.start({ listen: false });
    try {
      expect(runtime.actors.get('propagator')?.kind).toBe('propagator');
      await eventually(async () => (sends().length >= 1 ? true : undefined), 5_000, 20);
      expect(sends()[0]!.body).toEqual({ from: 'run' });
    } finally {
      await runtime.stop();
    }
  });

  it('refuses a bad payload file when the runtime is created, naming PAYLOAD_FILE_PATH', () => {
    const env = { DATABASE_URL: 'sqlite::memory:', LOG_LEVEL: 'silent', PERIOD_IN_SECONDS: '1', HTTP_POST_ENDPOINT: peer.url, PAYLOAD_FILE_PATH: join(dir, 'absent.json') };
    expect(() => createRuntime({ inheritEnv: false, env })).toThrow(/^PAYLOAD_FILE_PATH: cannot read/);
  });
});

describe('loadPayloads', () => {
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('reads a JSON array of objects', () => {
    expect(loadPayloads(file('ok.json', '[{"a":1},{"b":2}]'))).toEqual([{ a: 1 }, { b: 2 }]);
  });

  it.each([
    ['missing', null, /cannot read/],
    ['not-json.json', '{oops', /not valid JSON/],
    ['object.json', '{"a":1}', /must hold a JSON array of objects/],
    ['empty.json', '[]', /empty array/],
    ['scalars.json', '[{"a":1}, 3]', /item 1 is not a JSON object/],
  ])('%s is a ConfigError naming PAYLOAD_FILE_PATH', (name, text, reason) => {
    const path = text === null ? join(dir, name) : file(name, text);
    const error = (() => {
      try {
        loadPayloads(path);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe('PAYLOAD_FILE_PATH');
    expect((error as Error).message).toMatch(/^PAYLOAD_FILE_PATH: /);
    expect((error as Error).message).toMatch(reason);
  });
});
