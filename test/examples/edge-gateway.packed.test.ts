import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { copyFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../e2e/cli.ts';
import { installPacked, PACKAGE_NAME } from '../support/packed.ts';

const GATEWAY = fileURLToPath(new URL('../../examples/edge-gateway/gateway.js', import.meta.url));

// The example as an embedder runs it: the tarball installed into an empty project, plain node.
describe(`examples/edge-gateway from the packed ${PACKAGE_NAME} (plain node, Mosquitto)`, () => {
  let project: string;
  let tarball: string;

  beforeAll(async () => {
    ({ project, tarball } = await installPacked());
    copyFileSync(GATEWAY, join(project, 'gateway.js'));
  }, 300_000);
  afterAll(() => {
    if (tarball) rmSync(dirname(tarball), { recursive: true, force: true });
  });

  it('runs with plain node: Vigil at /vigil/, its own readings and an MQTT one firing a rule, exit 0 on SIGTERM', async () => {
    const root = `gwp-${randomUUID()}`;
    const child = spawn(process.execPath, ['gateway.js'], {
      cwd: project,
      env: {
        PATH: process.env.PATH ?? '',
        GATEWAY_PORT: '0',
        GATEWAY_ID: 'gw-packed',
        DATABASE_URL: `sqlite:${join(project, 'gateway.db')}`,
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
      const page = await fetch(`${url}/vigil/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('assets/dashboard.js');
      expect((await fetch(`${url}/vigil/assets/dashboard.js`)).status).toBe(200);
      // Its own readings, in-process: accepted and counted (a value below the load rule's threshold
      // leaves the rule in `ok` untouched by design, so its context is no witness).
      await eventually(async () => {
        const text = await (await fetch(`${url}/vigil/metrics`)).text();
        return Number(/^vigil_readings_total\{outcome="accepted"\} (\d+)/m.exec(text)?.[1] ?? 0) >= 2 ? true : undefined;
      });
      const rule = { id: 'pump-hot', name: 'pump hot', device_id: 'pump-1', metric: 'temp', operator: '>', threshold: 70 };
      expect((await fetch(`${url}/vigil/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rule) })).status).toBe(201);
      const client = await mqtt.connectAsync('mqtt://127.0.0.1:1883');
      await client.publishAsync(`${root}/pump-1/temp`, '75', { qos: 1 });
      await client.endAsync();
      await eventually(async () => {
        const body = (await (await fetch(`${url}/firing`)).json()) as { rules: { rule_id: string }[] };
        return body.rules.some((r) => r.rule_id === 'pump-hot') ? true : undefined;
      }, 15_000);
    } finally {
      child.kill('SIGTERM');
    }
    expect((await exited)[0]).toBe(0);
  });
});
