import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/create-runtime.ts';
import { eventually } from '../e2e/cli.ts';

/**
 * Every status GET /openapi.json documents, produced by the real app: a request per (operation,
 * status), against a runtime set up so that the status can happen (a rate limit of 1, a store
 * that refuses connections). A documented status no request here produces fails the test, and so
 * does a route answering another status than the one its case expects.
 */
const TOKEN = 'openapi-secret';
const base = { LOG_LEVEL: 'silent', API_TOKEN: TOKEN, API_TOKEN_READS: 'true', MAX_BODY_BYTES: '4096', RULES_MAX_BODY_BYTES: '4096', PORT: '0' };
const auth = { authorization: `Bearer ${TOKEN}` };

type Setup = 'main' | 'limited' | 'down' | 'brokerDown';
interface Case {
  path: string;
  init?: RequestInit;
  on?: Setup;
}

const json = (method: string, body: unknown): RequestInit => ({ method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const rule = (id: string) => ({ id, name: `rule ${id}`, device_id: 'd1', metric: 'temp', operator: '>', threshold: 50 });
const reading = { device_id: 'd1', metric: 'temp', value: 20 };
const silence = () => ({ rule_id: 'r1', ends_at: new Date(Date.now() + 3_600_000).toISOString(), created_by: 'ops', comment: 'maintenance' });

/** The request that should answer each status of each operation, beyond the generic ones (`caseOf`). */
const CASES: Record<string, Partial<Record<number, Case>>> = {
  'get /readyz': { 503: { path: '/readyz', on: 'down' } },
  'get /actors': { 400: { path: '/actors?limit=0' } },
  'get /actors/{id}': { 200: { path: '/actors/publisher' }, 404: { path: '/actors/nobody' } },
  'get /actors/{id}/machine': { 200: { path: '/actors/publisher/machine' }, 404: { path: '/actors/nobody/machine' } },
  'get /actors/{id}/definition': { 200: { path: '/actors/publisher/definition' }, 404: { path: '/actors/nobody/definition' } },
  'get /events': { 400: { path: '/events?lastEventId=x' } },
  'get /assets/{file}': { 200: { path: '/assets/dashboard.css' }, 404: { path: '/assets/nothing.js' } },
  'post /rules': { 201: { path: '/rules', init: json('POST', rule('created')) }, 409: { path: '/rules', init: json('POST', rule('r1')) }, 422: { path: '/rules', init: json('POST', { name: 'x' }) }, 503: { path: '/rules', init: json('POST', rule('r9')), on: 'down' } },
  'get /rules/{id}': { 200: { path: '/rules/r1' }, 404: { path: '/rules/nothing' } },
  'patch /rules/{id}': { 200: { path: '/rules/r1', init: json('PATCH', { threshold: 60 }) }, 404: { path: '/rules/nothing', init: json('PATCH', { threshold: 60 }) }, 422: { path: '/rules/r1', init: json('PATCH', { threshold: 'high' }) } },
  'delete /rules/{id}': { 204: { path: '/rules/r-del', init: { method: 'DELETE' } }, 404: { path: '/rules/nothing', init: { method: 'DELETE' } } },
  // On Kafka, readings are published for the instance owning their rules: a broker down answers 503.
  'post /readings': { 202: { path: '/readings', init: json('POST', reading) }, 503: { path: '/readings', init: json('POST', reading), on: 'brokerDown' }, 422: { path: '/readings', init: json('POST', [reading, { device_id: 'd1', value: 'hot' }]) } },
  'get /alerts/events': { 400: { path: '/alerts/events?since=yesterday' } },
  'get /analytics/latest': { 404: { path: '/analytics/latest', on: 'down' } },
  'get /analytics/snapshots': { 400: { path: '/analytics/snapshots?limit=-1' } },
  'get /notifications': { 400: { path: '/notifications?limit=0' } },
  'post /silences': { 201: { path: '/silences', init: json('POST', silence()) }, 422: { path: '/silences', init: json('POST', { ...silence(), ends_at: 'soon' }) } },
  'get /silences/{id}': { 404: { path: '/silences/nothing' } },
  'delete /silences/{id}': { 404: { path: '/silences/nothing', init: { method: 'DELETE' } } },
  'post /admin/cleanup': { 200: { path: '/admin/cleanup', init: json('POST', {}) }, 422: { path: '/admin/cleanup', init: json('POST', { days: -1 }) } },
};

const withoutAuth = (init: RequestInit = {}): RequestInit => init;

/** The request for `status` of `method path` (the OpenAPI path with ids filled in by CASES when needed). */
function caseOf(method: string, path: string, status: number): Case {
  const own = CASES[`${method} ${path}`]?.[status];
  if (own) return own;
  const success = Object.entries(CASES[`${method} ${path}`] ?? {}).find(([s]) => Number(s) < 300)?.[1] ?? { path, init: { method: method.toUpperCase() } };
  const init = success.init ?? { method: method.toUpperCase() };
  switch (status) {
    case 200:
      return success;
    case 400:
      return { path: success.path, init: { method: init.method, headers: { 'content-type': 'application/json' }, body: '{not json' } };
    case 401:
      return { ...success, init: withoutAuth({ ...init, headers: { ...(init.headers as Record<string, string>), authorization: 'Bearer wrong' } }) };
    case 413:
      return { path: success.path, init: { method: init.method, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pad: 'x'.repeat(8_192) }) } };
    case 429:
      return { ...success, on: 'limited' };
    case 503:
      return { ...success, on: 'down' };
    default:
      throw new Error(`no case for ${status} of ${method} ${path}: add one to CASES`);
  }
}

describe('GET /openapi.json matches what the routes answer', () => {
  const runtimes = {} as Record<Setup, Runtime>;
  let doc: { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };

  beforeAll(async () => {
    runtimes.main = createRuntime({ inheritEnv: false, env: { ...base, DATABASE_URL: 'sqlite::memory:', ANALYTICS_INTERVAL_SECONDS: '0.2', RATE_LIMIT_DEFAULT: '100000/minute', RATE_LIMIT_ADMIN: '100000/minute' } });
    runtimes.limited = createRuntime({ inheritEnv: false, env: { ...base, DATABASE_URL: 'sqlite::memory:', RATE_LIMIT_DEFAULT: '1/minute', RATE_LIMIT_ADMIN: '1/minute' } });
    // Nothing listens on port 1: every store call fails with a connection error, which is retriable.
    runtimes.down = createRuntime({ inheritEnv: false, env: { ...base, DATABASE_URL: 'postgres://vigil@127.0.0.1:1/vigil', RATE_LIMIT_DEFAULT: '100000/minute' } });
    runtimes.brokerDown = createRuntime({ inheritEnv: false, env: { ...base, DATABASE_URL: 'sqlite::memory:', KAFKA_BROKERS: '127.0.0.1:1', KAFKA_MAX_RETRIES: '0', RATE_LIMIT_DEFAULT: '100000/minute' } });
    await runtimes.main.start({ listen: false });
    for (const id of ['r1', 'r-del']) expect((await runtimes.main.app.request('/rules', { ...json('POST', rule(id)), headers: { ...auth, 'content-type': 'application/json' } })).status).toBe(201);
    // Silences get ids of their own: the cases reading and expiring one are filled in once they exist.
    for (const [operation, status, method] of [['get /silences/{id}', 200, 'GET'], ['delete /silences/{id}', 204, 'DELETE']] as const) {
      const created = await runtimes.main.app.request('/silences', { ...json('POST', silence()), headers: { ...auth, 'content-type': 'application/json' } });
      CASES[operation]![status] = { path: `/silences/${((await created.json()) as { id: string }).id}`, init: { method } };
    }
    await eventually(async () => ((await runtimes.main.app.request('/analytics/latest', { headers: auth })).status === 200 ? true : undefined), 20_000);
    doc = (await (await runtimes.main.app.request('/openapi.json', { headers: auth })).json()) as typeof doc;
  }, 60_000);

  afterAll(async () => {
    await runtimes.main?.stop();
    for (const setup of ['limited', 'down', 'brokerDown'] as const) await runtimes[setup]?.store.close().catch(() => undefined);
  });

  it('answers every documented status of every operation', { timeout: 120_000 }, async () => {
    const seen: string[] = [];
    for (const setup of ['limited'] as const) {
      // Spend the one request per class the limited runtime allows.
      for (const method of ['GET', 'POST']) await runtimes[setup].app.request('/rules', { method, headers: auth });
      await runtimes[setup].app.request('/admin/cleanup', { method: 'POST', headers: auth });
    }
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        for (const status of Object.keys(operation.responses).map(Number)) {
          const request = caseOf(method, path, status);
          const init = request.init ?? { method: method.toUpperCase() };
          const headers = { ...auth, ...(init.headers as Record<string, string> | undefined) };
          const response = await runtimes[request.on ?? 'main'].app.request(request.path, { ...init, headers });
          if (status !== 200 || !path.startsWith('/events')) await response.body?.cancel();
          seen.push(`${method} ${path} ${status}`);
          expect(`${method} ${path} → ${response.status}`).toBe(`${method} ${path} → ${status}`);
        }
      }
    }
    // The document is not empty of what the issue named.
    expect(seen).toEqual(expect.arrayContaining(['post /rules 201', 'post /rules 409', 'post /rules 503', 'post /readings 202', 'delete /rules/{id} 204', 'post /rules 401', 'get /rules 429', 'post /readings 422']));
  });

  it('documents the success status and the bearer requirement the guard enforces', () => {
    const op = (path: string, method: string) => doc.paths[path]![method] as unknown as { responses: Record<string, unknown>; security: unknown[] };
    expect(Object.keys(op('/rules', 'post').responses)).not.toContain('200');
    expect(op('/rules', 'post').security).toEqual([{ bearer: [] }]);
    expect(op('/actors', 'get').security).toEqual([{ bearer: [] }]);
    expect(op('/healthz', 'get').security).toEqual([]);
    expect(op('/metrics', 'get').security).toEqual([]);
    expect(op('/', 'get').security).toEqual([]);
    expect(op('/assets/{file}', 'get').security).toEqual([]);
    expect((doc as unknown as { servers: unknown[] }).servers).toEqual([{ url: '/', description: expect.any(String) }]);
  });
});
