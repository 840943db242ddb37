import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from '../e2e/cli.ts';

const EXAMPLE = fileURLToPath(new URL('../../examples/edge-gateway/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'vigil-gateway-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('examples/edge-gateway (real process, Mosquitto)', () => {
  it('serves its own routes and Vigil at /vigil/, ingests its own readings and MQTT ones, and stops on SIGTERM', async () => {
    const root = `gw-${randomUUID()}`;
    // From the checkout, plain node: the package's name resolves to this checkout's dist/ (built by the test setup).
    const child = spawn(process.execPath, ['gateway.js'], {
      cwd: EXAMPLE,
      env: {
        PATH: process.env.PATH ?? '',
        GATEWAY_PORT: '0',
        GATEWAY_ID: 'gw-test',
        DATABASE_URL: `sqlite:${join(dir, 'gateway.db')}`,
        MQTT_TOPICS: `${root}/+/+`,
        MQTT_TOPIC_TEMPLATE: `${root}/{device_id}/{metric}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = once(child, 'exit');
    try {
      const url = await eventually(async () => /"url":"([^"]+)","dashboard"/.exec(out)?.[1], 30_000);
      expect(await (await fetch(`${url}/`)).json()).toEqual({ gateway: 'gw-test', vigil: '/vigil/' });
      expect((await fetch(`${url}/vigil/`)).headers.get('content-type')).toContain('text/html');
      expect(((await (await fetch(`${url}/vigil/openapi.json`)).json()) as { servers: unknown }).servers).toEqual([{ url: '/vigil', description: expect.any(String) }]);

      // Its own readings, in-process: accepted and counted. (Not read from the load rule's actor: a
      // value below the threshold leaves a rule in `ok` untouched by design, so its context shows
      // a value only when the machine's load average is above 8.)
      const accepted = await eventually(async () => {
        const text = await (await fetch(`${url}/vigil/metrics`)).text();
        const count = Number(/^vigil_readings_total\{outcome="accepted"\} (\d+)/m.exec(text)?.[1] ?? 0);
        return count >= 2 ? count : undefined;
      });
      expect(accepted).toBeGreaterThanOrEqual(2);

      // MQTT readings: a message fires a rule created over the mounted API.
      const rule = { id: 'pump-hot', name: 'pump hot', device_id: 'pump-1', metric: 'temp', operator: '>', threshold: 70 };
      const created = await fetch(`${url}/vigil/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rule) });
      expect(created.status).toBe(201);
      const client = await mqtt.connectAsync('mqtt://127.0.0.1:1883');
      await client.publishAsync(`${root}/pump-1/temp`, '75', { qos: 1 });
      await client.endAsync();
      const firing = await eventually(async () => {
        const body = (await (await fetch(`${url}/firing`)).json()) as { rules: { rule_id: string }[] };
        return body.rules.some((r) => r.rule_id === 'pump-hot') ? body : undefined;
      }, 15_000);
      expect(firing.rules.map((r) => r.rule_id)).toContain('pump-hot');
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = await exited;
    expect(code).toBe(0);
    expect(out).toContain('"msg":"stopped"');
  });
});
