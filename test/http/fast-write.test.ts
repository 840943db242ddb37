import { request } from 'node:http';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { RouteModule } from '../../src/http/app.ts';
import { StoreError, ValidationError } from '../../src/errors.ts';
import { parseExposition } from './exposition.ts';
import { httpApp } from './http-app.ts';
import { honoListener, listen, vigilListener, type PickListener, type Served } from './served.ts';

/**
 * A hot write whose answer tells what it was given, and whose failures come from the body: an
 * object with `fail` throws a 422, a retriable store error (503) or an unexpected error (500), or
 * answers a body that cannot be serialized (500).
 */
const echo: RouteModule = (app, tools) =>
  tools.hotWrites.post(app, '/echo', async (body) => {
    await Promise.resolve();
    const fail = (body as { fail?: string } | null)?.fail;
    if (fail === 'invalid') throw new ValidationError([{ path: 'fail', message: 'must not be set' }]);
    if (fail === 'store') throw new StoreError('database is locked', { code: 'STORE_BUSY', retriable: true });
    if (fail === 'crash') throw new Error('disk on fire at /secret/path.ts:12');
    if (fail === 'unserializable') return { status: 202, body: { n: 1n } };
    return { status: 202, body: { got: body } };
  });

const servers: Served[] = [];
afterEach(async () => {
  for (const served of servers.splice(0)) await served.close();
});

async function serve(env: Record<string, string>, pick: PickListener): Promise<Served> {
  const served = await listen(httpApp(env, [echo]), pick);
  servers.push(served);
  return served;
}

/** A POST as a client sends it: the body in one piece with Content-Length, or chunked in `chunks` pieces. */
interface Post {
  path: string;
  body: Buffer;
  chunks: number | undefined;
  authorization: string | undefined;
}

/** What a client sees of the answer to `post`: status, body and headers, less the ones that name the moment. */
function seen(port: number, post: Post): Promise<{ status: number; body: string; headers: Record<string, string> }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (post.authorization !== undefined) headers.authorization = post.authorization;
    if (post.chunks === undefined) headers['content-length'] = String(post.body.length);
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: post.path, headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () => {
        const kept: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers)) {
          if (!['date', 'keep-alive', 'connection', 'x-ratelimit-reset', 'transfer-encoding'].includes(name)) kept[name] = String(value);
        }
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8'), headers: kept });
      });
    });
    // The server may answer (413) before the whole body is sent, and close: that is its answer.
    req.on('error', reject);
    if (post.chunks === undefined) {
      req.end(post.body);
      return;
    }
    const size = Math.ceil(post.body.length / post.chunks) || 1;
    for (let at = 0; at < post.body.length; at += size) req.write(post.body.subarray(at, at + size));
    req.end();
  });
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const json = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify(value)),
  fc.constantFrom('{"fail":"invalid"}', '{"fail":"store"}', '{"fail":"crash"}', '{"fail":"unserializable"}', '[{"device_id":"d1","metric":"t","value":1}]'),
  fc.constantFrom('', ' ', '{', 'null', '{"a":1}{', '"\u00e9"', '[1,2,3]'),
);
const body = fc.oneof(
  json.map((text) => Buffer.from(text)),
  json.map((text) => Buffer.concat([BOM, Buffer.from(text)])),
  json.map((text) => Buffer.concat([BOM, BOM, Buffer.from(text)])),
  fc.constantFrom(Buffer.from([0x22, 0xff, 0xfe, 0x22]), Buffer.from('{"x":"' + 'y'.repeat(200) + '"}')),
);
const post = fc.record({
  path: fc.constantFrom('/echo', '/echo?x=1'),
  body,
  chunks: fc.constantFrom(undefined, 1, 3),
  authorization: fc.constantFrom(undefined, 'Bearer s3cret', 'Bearer wrong'),
});
const config = fc.record({
  API_TOKEN: fc.constantFrom(undefined, 's3cret'),
  ENABLE_RATE_LIMITING: fc.constantFrom('true', 'false'),
  RATE_LIMIT_WRITES: fc.constantFrom('3/minute', '1000/minute'),
  MAX_BODY_BYTES: fc.constantFrom('64', '1048576'),
});

describe('the fast path for hot writes', () => {
  it('answers every POST exactly as the Hono app alone does: guard, body limit, JSON, the write and its errors', async () => {
    await fc.assert(
      fc.asyncProperty(config, fc.array(post, { minLength: 1, maxLength: 6 }), async (settings, posts) => {
        const env = Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)) as Record<string, string>;
        const [vigil, hono] = await Promise.all([serve(env, vigilListener), serve(env, honoListener)]);
        try {
          for (const sent of posts) {
            const viaVigil = await seen(vigil.port, sent);
            const viaHono = await seen(hono.port, sent);
            expect({ sent: sent.body.toString('latin1'), ...viaVigil }).toEqual({ sent: sent.body.toString('latin1'), ...viaHono });
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

  it('refuses a chunked body as soon as it passes MAX_BODY_BYTES, and keeps serving', async () => {
    const vigil = await serve({ MAX_BODY_BYTES: '100' }, vigilListener);
    const big = { path: '/echo', body: Buffer.from(JSON.stringify({ x: 'y'.repeat(500) })), chunks: 10, authorization: undefined };
    expect(await seen(vigil.port, big)).toMatchObject({ status: 413, body: JSON.stringify({ error: 'request body over 100 bytes: send less, or raise MAX_BODY_BYTES', code: 'PAYLOAD_TOO_LARGE', limit_bytes: 100, setting: 'MAX_BODY_BYTES' }) });
    const small = { ...big, body: Buffer.from('[1]'), chunks: 2 };
    expect(await seen(vigil.port, small)).toMatchObject({ status: 202, body: '{"got":[1]}' });
  });

  it('times its requests into the same histogram, by route and status', async () => {
    const vigil = await serve({}, vigilListener);
    const send = (text: string) => seen(vigil.port, { path: '/echo', body: Buffer.from(text), chunks: undefined, authorization: undefined });
    await send('[1]');
    await send('[2]');
    await send('{');
    const families = parseExposition(await (await fetch(`${vigil.url}/metrics`)).text());
    const counts = families.get('vigil_http_request_duration_seconds')!.samples.filter((s) => s.name.endsWith('_count'));
    const count = (status: string) => counts.find((s) => s.labels.route === '/echo' && s.labels.method === 'POST' && s.labels.status === status)?.value;
    expect(count('202')).toBe(2);
    expect(count('400')).toBe(1);
  });
});
