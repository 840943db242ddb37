import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { assign, createActor, setup } from 'xstate';
import type { RouteModule } from '../../src/http/app.ts';
import { parseExposition } from './exposition.ts';
import { httpApp } from './http-app.ts';
import { honoListener, listen, vigilListener, type PickListener, type Served } from './served.ts';

/** Actor ids a client may ask for, with the characters that need care in a path. */
const IDS = ['publisher', 'rule:cpu-high', 'a b', 'ünï', 'x/y'];

const counter = setup({ types: { context: {} as { n: number }, events: {} as { type: 'INC' } } }).createMachine({
  id: 'counter',
  context: { n: 0 },
  initial: 'idle',
  states: { idle: { on: { INC: { target: 'busy', actions: assign({ n: ({ context }) => context.n + 1 }) } } }, busy: {} },
});

/** A hot read that fails unexpectedly: both servers must answer 500 with no details. */
const failing: RouteModule = (app, deps) => deps.hotReads.get(app, '/failing/:id', () => {
  throw new Error('disk on fire at /secret/path.ts:12');
});

const servers: Served[] = [];
afterEach(async () => {
  for (const served of servers.splice(0)) await served.close();
});

/** One HTTP surface with the actors of IDS, served by `pick(surface)`: Vigil's listener, or Hono's alone. */
async function serve(env: Record<string, string>, pick: PickListener): Promise<Served> {
  const built = httpApp(env, [failing]);
  for (const id of IDS) {
    const actor = createActor(counter);
    built.deps.registry.add({ id, kind: 'counter', actor, machine: counter });
    actor.start();
    if (id.startsWith('rule')) actor.send({ type: 'INC' });
  }
  const served = await listen(built, pick);
  servers.push(served);
  return served;
}

/** What a client sees of a response: status, body and headers, less the ones that name the moment. */
async function seen(url: string, headers: Record<string, string>) {
  const response = await fetch(url, { headers });
  const kept: Record<string, string> = {};
  for (const [name, value] of response.headers) if (!['date', 'keep-alive', 'connection', 'x-ratelimit-reset'].includes(name)) kept[name] = value;
  return { status: response.status, body: await response.text(), headers: kept, reset: Number(response.headers.get('x-ratelimit-reset') ?? 0) };
}

const segment = fc.oneof(
  fc.constantFrom(...IDS).map(encodeURIComponent),
  fc.constantFrom(...IDS),
  fc.constantFrom('nobody', '%E0%A4%A', '%2F', '', 'publisher%20', 'PUBLISHER'),
  fc.string({ maxLength: 6 }).map(encodeURIComponent),
);
const path = fc.oneof(
  segment.map((id) => `/actors/${id}`),
  segment.map((id) => `/actors/${id}/machine`),
  segment.map((id) => `/actors/${id}/`),
  segment.map((id) => `/actors/${id}?verbose=1&x=%ZZ`),
  segment.map((id) => `/failing/${id}`),
  fc.constantFrom('/actors', '/actors?limit=2', '/actors//machine', '/healthz', '/nope'),
);
const authorization = fc.constantFrom(undefined, 'Bearer s3cret', 'Bearer wrong', 'bearer  s3cret ', 'Basic czNjcmV0', 'Bearer');
const config = fc.record({
  API_TOKEN: fc.constantFrom(undefined, 's3cret'),
  API_TOKEN_READS: fc.constantFrom('true', 'false'),
  ENABLE_RATE_LIMITING: fc.constantFrom('true', 'false'),
  RATE_LIMIT_READS: fc.constantFrom('3/minute', '1000/minute'),
});

describe('the fast path for hot reads', () => {
  it('answers every request exactly as the Hono app alone does: status, body, headers, rate-limit counts', async () => {
    await fc.assert(
      fc.asyncProperty(config, fc.array(fc.tuple(path, authorization), { minLength: 1, maxLength: 8 }), async (settings, requests) => {
        const env = Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)) as Record<string, string>;
        const [vigil, hono] = await Promise.all([serve(env, vigilListener), serve(env, honoListener)]);
        try {
          for (const [target, auth] of requests) {
            const headers: Record<string, string> = auth === undefined ? {} : { authorization: auth };
            const viaVigil = await seen(vigil.url + target, headers);
            const viaHono = await seen(hono.url + target, headers);
            expect({ target, ...viaVigil, reset: undefined }).toEqual({ target, ...viaHono, reset: undefined });
            expect(Math.abs(viaVigil.reset - viaHono.reset)).toBeLessThanOrEqual(1);
            expect(viaVigil.status).toBeLessThan(600);
            if (viaVigil.status === 500) expect(viaVigil.body).toBe('{"error":"internal error","code":"INTERNAL"}');
          }
        } finally {
          await Promise.all([vigil.close(), hono.close()]);
          servers.splice(0);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('draws on the same rate-limit counters as the routes Hono answers', async () => {
    const vigil = await serve({ RATE_LIMIT_READS: '3/minute' }, vigilListener);
    const statuses = [];
    for (const target of ['/actors/publisher', '/actors', '/actors/publisher/machine', '/actors/publisher', '/actors']) {
      statuses.push((await fetch(vigil.url + target)).status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
  });

  it('times its requests into the same histogram, by route pattern and status', async () => {
    const vigil = await serve({}, vigilListener);
    await fetch(`${vigil.url}/actors/publisher`);
    await fetch(`${vigil.url}/actors/publisher`);
    await fetch(`${vigil.url}/actors/nobody`);
    await fetch(`${vigil.url}/actors`);
    const families = parseExposition(await (await fetch(`${vigil.url}/metrics`)).text());
    const counts = families.get('vigil_http_request_duration_seconds')!.samples.filter((s) => s.name.endsWith('_count'));
    const count = (route: string, status: string) => counts.find((s) => s.labels.route === route && s.labels.status === status)?.value;
    expect(count('/actors/:id', '200')).toBe(2);
    expect(count('/actors/:id', '404')).toBe(1);
    expect(count('/actors', '200')).toBe(1);
  });
});
