import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startVigil } from './cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-body-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const post = async (url: string, path: string, body: string) => {
  const response = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

const rule = (i: number) => ({ id: `r${i}`, name: `rule ${i} ${'x'.repeat(40)}`, device_id: `d${i}`, metric: 'temp', operator: '>', threshold: 90 });

describe('body limits (real process)', () => {
  it('POST /readings (the node:http fast path) keeps MAX_BODY_BYTES; POST /rules takes up to RULES_MAX_BODY_BYTES; each 413 names its setting', async () => {
    const vigil = startVigil(['run'], { PORT: '0', DATABASE_URL: `sqlite:${join(dir, 'vigil.db')}`, PUBLISH_INTERVAL_SECONDS: '0', MAX_BODY_BYTES: '4096', RULES_MAX_BODY_BYTES: '65536' });
    try {
      const url = String((await vigil.waitForLog((line) => line.msg === 'vigil listening', 30_000)).url);
      const readings = (n: number) => JSON.stringify(Array.from({ length: n }, (_, i) => ({ device_id: `d${i}`, metric: 'temp', value: 20 })));
      expect(readings(200).length).toBeGreaterThan(4096);
      expect(await post(url, '/readings', readings(200))).toEqual({
        status: 413,
        body: { error: 'request body over 4096 bytes: send less, or raise MAX_BODY_BYTES', code: 'PAYLOAD_TOO_LARGE', limit_bytes: 4096, setting: 'MAX_BODY_BYTES' },
      });
      expect((await post(url, '/readings', readings(10))).status).toBe(202);

      // Over MAX_BODY_BYTES, under RULES_MAX_BODY_BYTES: taken.
      const some = JSON.stringify(Array.from({ length: 100 }, (_, i) => rule(i)));
      expect(some.length).toBeGreaterThan(4096);
      const created = await post(url, '/rules', some);
      expect(created.status).toBe(201);
      const many = JSON.stringify(Array.from({ length: 1000 }, (_, i) => rule(1000 + i)));
      expect(many.length).toBeGreaterThan(65536);
      expect(await post(url, '/rules', many)).toMatchObject({ status: 413, body: { code: 'PAYLOAD_TOO_LARGE', limit_bytes: 65536, setting: 'RULES_MAX_BODY_BYTES' } });
      // Nothing of the refused batch was stored.
      const listed = (await (await fetch(`${url}/rules`)).json()) as { count: number };
      expect(listed.count).toBe(100);
    } finally {
      await vigil.stop();
    }
  }, 90_000);
});
