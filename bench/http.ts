/**
 * HTTP surface: `GET /actors/:id` requests/s from Vigil's server as `vigil run` serves it (rate
 * limits on, request metrics, token guard; the fast path for hot reads), beside a bare node:http
 * server answering the same JSON, a bare Hono app, and Vigil's Hono app alone as a gateway mounting
 * `runtime.app` serves it; then SSE fan-out to 200 clients at 100 changes/s through `/events`,
 * beside a bare node:http SSE server writing the same frames. All in one run, load from wrk when
 * installed (else a Node client in a worker thread).
 */
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import { assign, createActor, setup } from 'xstate';
import { getRequestListener, serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createRuntime } from '../src/create-runtime.ts';
import { viewOf } from '../src/runtime/registry.ts';
import { REQUEST_LOOP, SSE_CLIENTS } from './_http-clients.ts';
import { median } from './_support.ts';

const DURATION_MS = Number(process.env.BENCH_HTTP_MS ?? 4_000);
const CONCURRENCY = 50;
const ROUNDS = Number(process.env.BENCH_HTTP_ROUNDS ?? 3);
const SSE_CLIENT_COUNT = 200;
const SSE_HZ = 100;
const SSE_EVENTS = Number(process.env.BENCH_SSE_EVENTS ?? 500);

const runWorker = <T>(source: string, workerData: unknown, onMessage?: (message: unknown, worker: Worker) => void): Promise<T> =>
  new Promise((resolve, reject) => {
    const worker = new Worker(source, { eval: true, workerData });
    worker.on('message', (message) => {
      if (typeof message === 'string') onMessage?.(message, worker);
      else {
        resolve(message as T);
        void worker.terminate();
      }
    });
    worker.once('error', reject);
  });

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** wrk (Debian's `wrk`), when installed: a C load generator costs the 2 cores far less than a Node client. */
const WRK = ['/usr/bin/wrk', '/usr/local/bin/wrk'].find((path) => existsSync(path));

interface HttpFigures {
  rps: number;
  errors: number;
  statuses: Record<string, number>;
}

async function requestsPerSecond(url: string): Promise<HttpFigures> {
  if (WRK) return wrkRequestsPerSecond(WRK, url);
  const result = await runWorker<{ requests: number; errors: number; statuses: Record<string, number> }>(REQUEST_LOOP, { url, concurrency: CONCURRENCY, durationMs: DURATION_MS });
  return { rps: Math.round(result.requests / (DURATION_MS / 1_000)), errors: result.errors, statuses: result.statuses };
}

/** One wrk run (one thread, CONCURRENCY keep-alive connections); non-2xx answers count as errors. */
async function wrkRequestsPerSecond(wrk: string, url: string): Promise<HttpFigures> {
  const child = spawn(wrk, ['-t1', `-c${CONCURRENCY}`, `-d${Math.round(DURATION_MS / 1_000)}s`, url]);
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  await once(child, 'exit');
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)?.slice(1).reduce((a, b) => a + Number(b), 0) ?? 0;
  return { rps: Math.round(Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0)), errors: non2xx + socketErrors, statuses: { '2xx': requests - non2xx } };
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

interface SseFigures {
  deliveredPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  lost: number;
}

/** Connects the clients, then calls `emit(seq)` SSE_HZ times a second, SSE_EVENTS times. */
async function sseRun(url: string, emit: (seq: number) => void): Promise<SseFigures> {
  let started = 0;
  let finished = 0;
  const result = await runWorker<{ received: number; latencies: number[] }>(SSE_CLIENTS, { url, clients: SSE_CLIENT_COUNT, expected: SSE_EVENTS }, (message, worker) => {
    if (message !== 'ready') return;
    started = performance.now();
    let seq = 0;
    const period = 1_000 / SSE_HZ;
    const tick = () => {
      emit(seq++);
      if (seq < SSE_EVENTS) setTimeout(tick, Math.max(0, started + seq * period - performance.now()));
      else {
        finished = performance.now();
        setTimeout(() => worker.postMessage('stop'), 500);
      }
    };
    tick();
  });
  const sorted = result.latencies.sort((a, b) => a - b);
  return {
    deliveredPerSecond: Math.round(result.received / ((finished - started) / 1_000)),
    p50Ms: Number(percentile(sorted, 50).toFixed(2)),
    p99Ms: Number(percentile(sorted, 99).toFixed(2)),
    lost: SSE_EVENTS * SSE_CLIENT_COUNT - result.received,
  };
}

const benchMachine = setup({
  types: { context: {} as { seq: number; sentAt: number }, events: {} as { type: 'CHANGE'; seq: number } },
  actions: { record: assign((_, params: { seq: number }) => ({ seq: params.seq, sentAt: performance.timeOrigin + performance.now() })) },
}).createMachine({
  id: 'bench',
  context: { seq: -1, sentAt: 0 },
  initial: 'live',
  states: { live: { on: { CHANGE: { actions: { type: 'record', params: ({ event }) => ({ seq: event.seq }) } } } } },
});

// --- GET /actors/:id -------------------------------------------------------------------------
const runtime = createRuntime({
  env: { DATABASE_URL: 'sqlite::memory:', PORT: '0', LOG_LEVEL: 'silent', ENABLE_RATE_LIMITING: 'true', RATE_LIMIT_READS: '1000000000/minute' },
});
const { url: vigilUrl } = await runtime.start();
const body = await (await fetch(`${vigilUrl}/actors/publisher`)).text();
console.log(`GET /actors/publisher answers ${Buffer.byteLength(body)} bytes of JSON`);
// The same JSON, built per request from the live actor as any server of actor state must (a
// constant string would measure serialization on one side only); Content-Length as Hono sends it
// (without it, writeHead commits to chunked encoding, a slower baseline).
const publisher = runtime.actors.get('publisher')!;
const bare = createServer((_, res) => {
  const json = JSON.stringify(viewOf(publisher, true));
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
  res.end(json);
});
const bareUrl = await listen(bare);
// The framework's own floor: a bare Hono app on @hono/node-server answering the same JSON, no middleware.
const floorApp = new Hono().get('/actors/:id', (c) => c.json(viewOf(publisher, true)));
const floor = serve({ fetch: floorApp.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
const floorUrl = await (once(floor, 'listening') as Promise<unknown>).then(() => `http://127.0.0.1:${(floor.address() as AddressInfo).port}`);
// Vigil's Hono app alone, middleware and all, as a gateway mounting `runtime.app` serves it (no fast path).
const mounted = createServer(getRequestListener(runtime.app.fetch));
const mountedUrl = await listen(mounted);

console.log(`GET /actors/publisher: ${CONCURRENCY} keep-alive connections, ${DURATION_MS / 1_000} s a run, ${ROUNDS} rounds of the four servers in turn after one warm-up run of each; load from ${WRK ? 'wrk' : 'a Node client in a worker thread (install wrk for a lighter one)'}`);
for (const url of [bareUrl, floorUrl, mountedUrl, vigilUrl]) await requestsPerSecond(`${url}/actors/publisher`);
// Rounds in turn, so a slow spell of the machine (the runtime's own timers, other processes) falls
// on all three servers; each server's figure is its median run, each ratio the median of the rounds'.
const runs: Array<{ bare: HttpFigures; floor: HttpFigures; mounted: HttpFigures; vigil: HttpFigures }> = [];
for (let round = 0; round < ROUNDS; round++) {
  runs.push({
    bare: await requestsPerSecond(`${bareUrl}/actors/publisher`),
    floor: await requestsPerSecond(`${floorUrl}/actors/publisher`),
    mounted: await requestsPerSecond(`${mountedUrl}/actors/publisher`),
    vigil: await requestsPerSecond(`${vigilUrl}/actors/publisher`),
  });
}
const medianRun = (pick: (run: (typeof runs)[number]) => HttpFigures): HttpFigures => {
  const rps = median(runs.map((run) => pick(run).rps));
  return runs.map(pick).find((figures) => figures.rps === rps)!;
};
const bareHttp = medianRun((run) => run.bare);
const floorHttp = medianRun((run) => run.floor);
const mountedHttp = medianRun((run) => run.mounted);
const vigilHttp = medianRun((run) => run.vigil);
const httpRatio = Number(median(runs.map((run) => run.vigil.rps / run.bare.rps)).toFixed(2));
const floorRatio = Number(median(runs.map((run) => run.floor.rps / run.bare.rps)).toFixed(2));
const mountedRatio = Number(median(runs.map((run) => run.mounted.rps / run.bare.rps)).toFixed(2));
console.log(`${'server'.padEnd(34)}${'req/s'.padStart(10)}${'errors'.padStart(8)}  statuses`);
console.log(`${'bare node:http'.padEnd(34)}${String(bareHttp.rps).padStart(10)}${String(bareHttp.errors).padStart(8)}  ${JSON.stringify(bareHttp.statuses)}`);
console.log(`${'bare Hono on @hono/node-server'.padEnd(34)}${String(floorHttp.rps).padStart(10)}${String(floorHttp.errors).padStart(8)}  ${JSON.stringify(floorHttp.statuses)}`);
console.log(`${'vigil runtime.app on a gateway'.padEnd(34)}${String(mountedHttp.rps).padStart(10)}${String(mountedHttp.errors).padStart(8)}  ${JSON.stringify(mountedHttp.statuses)}`);
console.log(`${'vigil run (rate limits on)'.padEnd(34)}${String(vigilHttp.rps).padStart(10)}${String(vigilHttp.errors).padStart(8)}  ${JSON.stringify(vigilHttp.statuses)}`);
console.log(`rounds (vigil / bare): ${runs.map((run) => (run.vigil.rps / run.bare.rps).toFixed(2)).join(' ')}`);
console.log(`ratio ${httpRatio} of bare node:http (target ≥ 0.8; median of the rounds); the bare Hono app alone reaches ${floorRatio}, Vigil's Hono app without the fast path ${mountedRatio}`);

// --- SSE -------------------------------------------------------------------------------------
const benchActor = createActor(benchMachine);
runtime.actors.add({ id: 'bench', kind: 'bench', actor: benchActor, machine: benchMachine });
benchActor.start();
const vigilSse = await sseRun(`${vigilUrl}/events?actor=bench`, (seq) => benchActor.send({ type: 'CHANGE', seq }));

const sinks = new Set<ServerResponse>();
const bareSseServer = createServer((_, res) => {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
  res.write(': connected\n\n');
  sinks.add(res);
  res.on('close', () => sinks.delete(res));
});
const bareSseUrl = await listen(bareSseServer);
let id = 0;
const bareSse = await sseRun(`${bareSseUrl}/events`, (seq) => {
  const data = JSON.stringify({ id: 'bench', kind: 'bench', status: 'active', value: 'live', context: { seq, sentAt: performance.timeOrigin + performance.now() } });
  const frame = Buffer.from(`id: ${++id}\nevent: bench\ndata: ${data}\n\n`);
  for (const res of sinks) res.write(frame);
});

console.log(`\nSSE: ${SSE_CLIENT_COUNT} clients, ${SSE_HZ} changes/s, ${SSE_EVENTS} changes`);
console.log(`${'server'.padEnd(34)}${'delivered/s'.padStart(12)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'lost'.padStart(7)}`);
const sseRow = (label: string, f: SseFigures) =>
  console.log(`${label.padEnd(34)}${String(f.deliveredPerSecond).padStart(12)}${String(f.p50Ms).padStart(9)}${String(f.p99Ms).padStart(9)}${String(f.lost).padStart(7)}`);
sseRow('bare node:http SSE', bareSse);
sseRow('vigil /events', vigilSse);
console.log(`delivered ratio ${(vigilSse.deliveredPerSecond / bareSse.deliveredPerSecond).toFixed(2)} (targets: p99 ≤ 25 ms, lost 0)`);

benchActor.stop();
runtime.actors.remove('bench');
bare.close();
floor.close();
mounted.close();
bareSseServer.closeAllConnections();
bareSseServer.close();
await runtime.stop();
console.log(
  JSON.stringify({
    bench: 'http',
    get: { vigilRps: vigilHttp.rps, bareRps: bareHttp.rps, honoFloorRps: floorHttp.rps, ratio: httpRatio, honoFloorRatio: floorRatio, mountedAppRps: mountedHttp.rps, mountedAppRatio: mountedRatio, rounds: ROUNDS, concurrency: CONCURRENCY, loadGenerator: WRK ? 'wrk' : 'node' },
    sse: { clients: SSE_CLIENT_COUNT, hz: SSE_HZ, events: SSE_EVENTS, vigil: vigilSse, bare: bareSse },
  }),
);
