import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { request, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/create-runtime.ts';
import { hostileBody, hostileHeaders, hostilePathParam, hostileQuery, type Operation } from './fuzz-inputs.ts';

const TOKEN = 'fuzz-token';
/**
 * RUNS requests, cut short after VIGIL_FUZZ_SECONDS: vitest.config.ts gives `npm test` 400 (about 8 s on
 * a quiet machine, at most 30 s) and `npm run test:slow` 20,000 within 60 s
 * (`npx vitest run --project slow test/http/fuzz.test.ts`).
 */
const RUNS = Number(process.env.VIGIL_FUZZ_RUNS ?? 2_000);
const TIME_LIMIT_MS = process.env.VIGIL_FUZZ_SECONDS ? Number(process.env.VIGIL_FUZZ_SECONDS) * 1_000 : 30_000;
/** Small enough that the oversized bodies the fuzzer makes are cheap to send. */
const MAX_BODY_BYTES = 32_768;

/** One answer as the client got it; an SSE stream is cut once its headers are in. */
interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

function send(base: URL, method: string, path: string, headers: Record<string, string>, body: Buffer | undefined): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: base.hostname, port: base.port, method, path, headers, agent: false }, (res) => {
      if (String(res.headers['content-type']).startsWith('text/event-stream')) {
        res.destroy();
        resolve({ status: res.statusCode!, headers: res.headers, text: '' });
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    // The server may refuse an oversized body before reading it all: the answer still counts.
    req.on('error', reject);
    req.end(body);
  });
}

/** Every operation of the OpenAPI document, with its parameters and JSON body schema. */
function operationsOf(doc: { paths: Record<string, Record<string, Omit<Operation, 'method' | 'path'>>> }): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, operations]) =>
    Object.entries(operations).map(([method, operation]) => ({ ...operation, method: method.toUpperCase(), path })),
  );
}

describe('every route of /openapi.json, given hostile requests', () => {
  let dir: string;
  let runtime: Runtime;
  let base: URL;
  let operations: Operation[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-fuzz-'));
    runtime = createRuntime({
      inheritEnv: false,
      env: {
        DATABASE_URL: `sqlite:${join(dir, 'vigil.db')}`,
        PORT: '0',
        LOG_LEVEL: 'silent',
        ENABLE_RATE_LIMITING: 'false',
        API_TOKEN: TOKEN,
        MAX_BODY_BYTES: String(MAX_BODY_BYTES),
        BATCH_WAIT_MS: '100',
      },
    });
    const { url } = await runtime.start();
    base = new URL(url!);
    await runtime.store.rules.create({
      id: 'fuzz-rule', name: 'seeded', device_id: 'dev-1', metric: 'temp', operator: '>', threshold: 50, for_seconds: 0,
      clear_threshold: null, keep_firing_for_seconds: 0, nodata_seconds: null, severity: 'warning', channels: [], enabled: true,
    });
    const doc = await send(base, 'GET', '/openapi.json', {}, undefined);
    operations = operationsOf(JSON.parse(doc.text));
  });

  afterAll(async () => {
    await runtime?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers a request Node cannot parse (headers over 16 KiB, a broken request line) with a JSON body', async () => {
    const huge = await send(base, 'GET', '/healthz', { 'x-big': 'a'.repeat(20_000) }, undefined);
    expect(huge.status).toBe(431);
    expect(JSON.parse(huge.text)).toMatchObject({ code: 'HEADERS_TOO_LARGE', error: expect.stringContaining('too large') });
    const socket = connect(Number(base.port), base.hostname);
    socket.end('NOT HTTP AT ALL\r\n\r\n');
    const [raw] = (await once(socket, 'data')) as [Buffer];
    socket.destroy();
    expect(raw.toString()).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(JSON.parse(raw.toString().split('\r\n\r\n')[1]!)).toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('answers 2xx or 4xx with a JSON body naming the problem, never 5xx; the database stays intact', async () => {
    expect(operations.length).toBeGreaterThan(10);
    const byRoute = new Map(operations.map((operation) => [`${operation.method} ${operation.path}`, operation]));
    // Routes that change data are drawn three times as often: that is where the checks run deepest.
    const routes = [...byRoute.keys()].flatMap((route) => (route.startsWith('GET') ? [route] : [route, route, route]));
    const requests = fc.constantFrom(...routes).chain((route) => {
      const operation = byRoute.get(route)!;
      return fc.record({
        route: fc.constant(route),
        params: fc.array(hostilePathParam, { minLength: 1, maxLength: 1 }),
        query: hostileQuery(operation),
        headers: hostileHeaders(TOKEN),
        body: hostileBody(operation, MAX_BODY_BYTES),
      });
    });
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(requests, async ({ route, params, query, headers, body }) => {
        const operation = byRoute.get(route)!;
        const path = operation.path.replace(/\{[^}]+\}/g, () => params[0]!) + query;
        const answer = await send(base, operation.method, path, { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) }, body);
        sent++;
        const what = `${operation.method} ${path} ${JSON.stringify(headers)} ${body?.subarray(0, 200).toString('latin1')} → ${answer.status} ${answer.text.slice(0, 300)}`;
        expect(answer.status, what).toBeLessThan(500);
        expect(answer.text, what).not.toMatch(/\n\s+at .*:\d+:\d+/);
        if (answer.status >= 400) {
          expect(String(answer.headers['content-type']), what).toMatch(/^application\/json/);
          const error = JSON.parse(answer.text) as { error?: unknown };
          expect(typeof error.error, what).toBe('string');
          expect((error.error as string).length, what).toBeGreaterThan(0);
        }
      }),
      { numRuns: RUNS, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false },
    );
    expect(sent).toBeGreaterThan(100);

    await runtime.stop();
    const db = new Database(join(dir, 'vigil.db'), { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }
  }, TIME_LIMIT_MS + 25_000);

});
