import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, startVigil } from './cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-mqtt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('MQTT source (real process, Mosquitto)', () => {
  it('an MQTT message fires an alert; /readyz shows the connection; SIGTERM stops cleanly', async () => {
    const root = `e2e-${randomUUID()}`;
    const vigil = startVigil(['run'], {
      PORT: '0',
      DATABASE_URL: `sqlite:${join(dir, 'vigil.db')}`,
      MQTT_URL: 'mqtt://127.0.0.1:1883',
      MQTT_TOPICS: `${root}/+/+`,
      MQTT_TOPIC_TEMPLATE: `${root}/{device_id}/{metric}`,
    });
    try {
      await vigil.waitForLog((line) => line.msg === 'mqtt connected');
      const url = String((await vigil.waitForLog((line) => line.msg === 'vigil listening')).url);
      const ready = (await (await fetch(`${url}/readyz`)).json()) as { checks: Record<string, { ok: boolean }> };
      expect(ready.checks.mqtt?.ok).toBe(true);
      const rule = { id: 'pump-hot', name: 'pump too hot', device_id: 'pump-1', metric: 'temp', operator: '>', threshold: 70 };
      const created = await fetch(`${url}/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rule) });
      expect(created.status).toBe(201);

      const client = await mqtt.connectAsync('mqtt://127.0.0.1:1883');
      await client.publishAsync(`${root}/pump-1/temp`, '74.5', { qos: 1 });
      await client.endAsync();
      const events = await eventually(async () => {
        const body = (await (await fetch(`${url}/alerts/events?alert_id=pump-hot`)).json()) as { events: { current_value: number }[] };
        return body.events.length > 0 ? body.events : undefined;
      }, 30_000);
      expect(events[0]).toMatchObject({ current_value: 74.5, is_resolved: false });
      await vigil.waitForLog((line) => line.msg === 'alert fired');
    } finally {
      vigil.child.kill('SIGTERM');
    }
    expect(await vigil.exit()).toBe(0);
  });
});
