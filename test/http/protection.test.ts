import { afterEach, describe, expect, it } from 'vitest';
import { httpApp, itemRoutes } from './http-app.ts';

const opened: Array<{ close(): Promise<void> }> = [];
function open(env: Record<string, string> = {}, items: unknown[] = []) {
  const built = httpApp(env, [itemRoutes(items)]);
  opened.push(built);
  return built.app;
}
afterEach(async () => {
  for (const built of opened.splice(0)) await built.close();
});

const post = (body: string, headers: Record<string, string> = {}) => ({
  method: 'POST',
  body,
  headers: { 'content-type': 'application/json', ...headers },
});

describe('rate limits', () => {
  it('answers 429 with Retry-After and the configured rate once a client passes its limit', async () => {
    const app = open({ RATE_LIMIT_DEFAULT: '3/minute' });
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i++) {
      last = await app.request('/actors');
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(last!.headers.get('x-ratelimit-limit')).toBe('3');
    expect(last!.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(last!.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(await last!.json()).toEqual({ error: 'Rate limit exceeded: 3 per 1 minute', detail: 'Too many requests', code: 'RATE_LIMIT_EXCEEDED' });
  });

  it('sends X-RateLimit-Limit, -Remaining and -Reset (Unix seconds) on every limited response', async () => {
    const app = open({ RATE_LIMIT_DEFAULT: '10/second' });
    const first = await app.request('/actors');
    const second = await app.request('/actors');
    expect(first.headers.get('x-ratelimit-limit')).toBe('10');
    expect(first.headers.get('x-ratelimit-remaining')).toBe('9');
    expect(second.headers.get('x-ratelimit-remaining')).toBe('8');
    const reset = Number(first.headers.get('x-ratelimit-reset'));
    expect(reset).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1_000));
    expect(reset).toBeLessThanOrEqual(Math.ceil(Date.now() / 1_000) + 1);
  });

  it('keeps reads, writes and admin in separate classes with their own limits', async () => {
    const app = open({ RATE_LIMIT_READS: '2/minute', RATE_LIMIT_WRITES: '1/minute', RATE_LIMIT_ADMIN: '1/hour' });
    expect((await app.request('/actors')).status).toBe(200);
    expect((await app.request('/items', post('{"name":"a","count":1}'))).status).toBe(201);
    const refusedWrite = await app.request('/items', post('{"name":"b","count":1}'));
    expect(refusedWrite.status).toBe(429);
    expect(((await refusedWrite.json()) as { error: string }).error).toBe('Rate limit exceeded: 1 per 1 minute');
    expect((await app.request('/actors')).status).toBe(200);
    expect((await app.request('/admin/purge', { method: 'POST' })).status).toBe(200);
    const refusedAdmin = await app.request('/admin/purge', { method: 'POST' });
    expect(refusedAdmin.status).toBe(429);
    expect(((await refusedAdmin.json()) as { error: string }).error).toBe('Rate limit exceeded: 1 per 1 hour');
  });

  it('never limits /healthz, /readyz and /metrics', async () => {
    const app = open({ RATE_LIMIT_DEFAULT: '1/minute' });
    for (let i = 0; i < 5; i++) {
      for (const path of ['/healthz', '/readyz', '/metrics']) {
        const response = await app.request(path);
        expect(response.status).toBe(200);
        expect(response.headers.get('x-ratelimit-limit')).toBeNull();
      }
    }
  });

  it('counts a client with the valid API token apart, and ignores made-up tokens', async () => {
    const app = open({ RATE_LIMIT_DEFAULT: '1/minute', API_TOKEN: 'secret-token' });
    expect((await app.request('/actors')).status).toBe(200);
    expect((await app.request('/actors', { headers: { authorization: 'Bearer made-up' } })).status).toBe(429);
    expect((await app.request('/actors', { headers: { authorization: 'Bearer secret-token' } })).status).toBe(200);
  });

  it('is off with ENABLE_RATE_LIMITING=false', async () => {
    const app = open({ RATE_LIMIT_DEFAULT: '1/minute', ENABLE_RATE_LIMITING: 'false' });
    for (let i = 0; i < 3; i++) {
      const response = await app.request('/actors');
      expect(response.status).toBe(200);
      expect(response.headers.get('x-ratelimit-limit')).toBeNull();
    }
  });
});

describe('API token', () => {
  it('needs Authorization: Bearer on mutating routes when API_TOKEN is set (401 JSON otherwise)', async () => {
    const items: unknown[] = [];
    const app = open({ API_TOKEN: 'secret-token' }, items);
    const missing = await app.request('/items', post('{"name":"a","count":1}'));
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    expect(await missing.json()).toMatchObject({ code: 'UNAUTHORIZED' });
    const wrong = await app.request('/items', post('{"name":"a","count":1}', { authorization: 'Bearer secret-tokem' }));
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ error: 'invalid API token', code: 'UNAUTHORIZED' });
    expect((await app.request('/items', post('{"name":"a","count":1}', { authorization: 'Basic c2VjcmV0' }))).status).toBe(401);
    expect(items).toEqual([]);
    expect((await app.request('/items', post('{"name":"a","count":1}', { authorization: 'Bearer secret-token' }))).status).toBe(201);
    expect(items).toEqual([{ name: 'a', count: 1 }]);
  });

  it('leaves reads open unless API_TOKEN_READS=true; probes and /metrics stay open either way', async () => {
    expect((await open({ API_TOKEN: 't0ken' }).request('/actors')).status).toBe(200);
    const guarded = open({ API_TOKEN: 't0ken', API_TOKEN_READS: 'true' });
    expect((await guarded.request('/actors')).status).toBe(401);
    expect((await guarded.request('/actors', { headers: { authorization: 'Bearer t0ken' } })).status).toBe(200);
    for (const path of ['/healthz', '/readyz', '/metrics']) expect((await guarded.request(path)).status).toBe(200);
  });

  it('serves the dashboard page and its files without the token under API_TOKEN_READS, limited as reads', async () => {
    const app = open({ API_TOKEN: 't0ken', API_TOKEN_READS: 'true', RATE_LIMIT_READS: '4/minute' });
    const remaining: Array<string | null> = [];
    for (const path of ['/', '/assets/dashboard.js', '/assets/sse-reader.js']) {
      const response = await app.request(path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('x-ratelimit-limit')).toBe('4');
      expect(response.headers.get('x-ratelimit-reset')).not.toBeNull();
      remaining.push(response.headers.get('x-ratelimit-remaining'));
    }
    const data = await app.request('/actors');
    expect(data.status).toBe(401);
    expect(data.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(remaining).toEqual(['3', '2', '1']);
    // The shell counts against the read limit like any read.
    expect((await app.request('/')).status).toBe(429);
  });

  it('still needs the token to write to the dashboard routes, and for an asset path no route matches', async () => {
    const app = open({ API_TOKEN: 't0ken', API_TOKEN_READS: 'true' });
    expect((await app.request('/', { method: 'POST' })).status).toBe(401);
    expect((await app.request('/assets/dashboard.js', { method: 'DELETE' })).status).toBe(401);
    expect((await app.request('/assets/x/y.js')).status).toBe(401);
    expect((await app.request('/assets/nothing.js')).status).toBe(404);
  });
});

describe('input', () => {
  it('answers 400 naming the field for a bad query and for a body that is not JSON', async () => {
    const app = open();
    const query = await app.request('/actors?limit=lots');
    expect(query.status).toBe(400);
    expect(await query.json()).toMatchObject({ code: 'VALIDATION_FAILED', issues: [{ path: 'limit' }] });
    const notJson = await app.request('/items', post('{"name":'));
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ code: 'INVALID_JSON', issues: [{ path: 'body' }] });
    const lastEvent = await app.request('/events', { headers: { 'last-event-id': 'yesterday' } });
    expect(lastEvent.status).toBe(400);
    expect(await lastEvent.json()).toMatchObject({ issues: [{ path: 'Last-Event-ID' }] });
  });

  it('answers 422 with the field path and the reason for a body that does not fit', async () => {
    const items: unknown[] = [];
    const app = open({}, items);
    const response = await app.request('/items', post('{"name":"","count":1.5}'));
    expect(response.status).toBe(422);
    const body = (await response.json()) as { issues: Array<{ path: string; message: string }> };
    expect(body.issues.map((issue) => issue.path).sort()).toEqual(['count', 'name']);
    expect(body.issues.every((issue) => issue.message.length > 0)).toBe(true);
    expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+/);
    expect(items).toEqual([]);
  });

  it('answers 413 JSON for a body over MAX_BODY_BYTES, by Content-Length or while streaming', async () => {
    const items: unknown[] = [];
    const app = open({ MAX_BODY_BYTES: '64' }, items);
    const big = JSON.stringify({ name: 'x'.repeat(100), count: 1 });
    const declared = await app.request('/items', post(big));
    expect(declared.status).toBe(413);
    expect(await declared.json()).toEqual({ error: 'request body over 64 bytes: send less, or raise MAX_BODY_BYTES', code: 'PAYLOAD_TOO_LARGE', limit_bytes: 64, setting: 'MAX_BODY_BYTES' });
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const streamed = await app.request('/items', { method: 'POST', body: stream, headers: { 'content-type': 'application/json' }, duplex: 'half' } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(items).toEqual([]);
    expect((await app.request('/items', post('{"name":"a","count":1}'))).status).toBe(201);
  });

  it('answers 404 JSON for an unknown route or asset', async () => {
    const app = open();
    for (const path of ['/nowhere', '/assets/secret.txt', '/actors/nobody']) {
      const response = await app.request(path);
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toContain('application/json');
      expect(await response.json()).toMatchObject({ code: 'NOT_FOUND' });
    }
    expect((await app.request('/actors', { method: 'DELETE' })).status).toBe(404);
  });
});
