import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/create-runtime.ts';
import type { Store } from '../../src/storage/store.ts';
import { openStore } from '../../src/storage/open-store.ts';
import { createLogger } from '../../src/runtime/logger.ts';
import { eventually } from '../e2e/cli.ts';

// Mosquitto on 127.0.0.1:1883 (.ci/run starts it); every test uses topics of its own.
const MQTT_URL = 'mqtt://127.0.0.1:1883';
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function env(root: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: 'sqlite::memory:',
    LOG_LEVEL: 'silent',
    PUBLISH_INTERVAL_SECONDS: '0',
    MQTT_URL,
    MQTT_TOPICS: `${root}/+/+`,
    MQTT_TOPIC_TEMPLATE: `${root}/{device_id}/{metric}`,
    ...extra,
  };
}

async function started(options: Parameters<typeof createRuntime>[0]): Promise<Runtime> {
  const runtime = createRuntime({ inheritEnv: false, ...options });
  cleanups.push(() => runtime.stop());
  await runtime.start({ listen: false });
  return runtime;
}

async function publisher(): Promise<MqttClient> {
  const client = await mqtt.connectAsync(MQTT_URL);
  cleanups.push(() => client.endAsync());
  return client;
}

const counted = async (runtime: Runtime, outcome: string): Promise<number> => {
  const text = await (await runtime.app.request('/metrics')).text();
  const line = text.split('\n').find((l) => l.startsWith(`vigil_mqtt_messages_total{outcome="${outcome}"}`));
  return line ? Number(line.split(' ')[1]) : 0;
};

describe('MQTT reading source (Mosquitto)', () => {
  it('turns a number payload into a reading that fires the rule of its device and metric; readiness shows the connection', async () => {
    const root = `t-${randomUUID()}`;
    const runtime = await started({ env: env(root) });
    const ready = (await (await runtime.app.request('/readyz')).json()) as { checks: Record<string, { ok: boolean }> };
    expect(ready.checks.mqtt).toMatchObject({ ok: true });
    await runtime.rules.create({ id: 'hot', name: 'hot', device_id: 'dev-1', metric: 'temp', operator: '>', threshold: 80 });
    const client = await publisher();
    await client.publishAsync(`${root}/dev-1/temp`, '91.5', { qos: 1 });
    const [event] = await eventually(async () => {
      const events = await runtime.alerts.events({ alert_id: 'hot' });
      return events.length > 0 ? events : undefined;
    });
    expect(event).toMatchObject({ device_id: 'dev-1', metric: 'temp', current_value: 91.5 });
    expect(await runtime.store.readings.latest('dev-1', 'temp')).toMatchObject({ value: 91.5 });
  });

  it('reads a JSON reading at QoS 0 too', async () => {
    const root = `t-${randomUUID()}`;
    const runtime = await started({ env: env(root, { MQTT_QOS: '0' }) });
    const client = await publisher();
    await client.publishAsync(`${root}/dev-2/hum`, JSON.stringify({ value: 40, ts: '2026-01-01T00:00:00.000Z' }), { qos: 0 });
    const reading = await eventually(() => runtime.store.readings.latest('dev-2', 'hum'));
    expect(reading).toMatchObject({ value: 40, ts: '2026-01-01T00:00:00.000Z' });
  });

  it('counts and logs bad payloads and topics, and goes on with the next message', async () => {
    const root = `t-${randomUUID()}`;
    const runtime = await started({ env: env(root) });
    const client = await publisher();
    await client.publishAsync(`${root}/dev-3/temp`, 'hot!', { qos: 1 });
    await client.publishAsync(`${root}/dev-3/temp`, '{"value": "high"}', { qos: 1 });
    await client.publishAsync(`${root}/dev-3/temp`, '', { qos: 1 });
    await client.publishAsync(`${root}/dev-3/temp`, '12', { qos: 1 });
    await eventually(async () => ((await counted(runtime, 'accepted')) === 1 ? true : undefined));
    expect(await counted(runtime, 'rejected')).toBe(3);
    expect(await runtime.store.readings.latest('dev-3', 'temp')).toMatchObject({ value: 12 });
  });

  it('does not acknowledge a QoS 1 message whose reading could not be stored: the broker redelivers it', async () => {
    const root = `t-${randomUUID()}`;
    const logger = createLogger('silent');
    const real = openStore({ kind: 'sqlite', path: ':memory:' }, logger);
    // The fault: a store write failing once (a full disk, say), which no real peer reproduces on demand.
    let failures = 1;
    const store: Store = {
      ...real,
      alerts: {
        ...real.alerts,
        // Readings are committed with the alert writes they caused, in one store call.
        async commit(unit) {
          if (failures-- > 0) throw new Error('disk full');
          return real.alerts.commit(unit);
        },
      },
    };
    const clientId = `vigil-${randomUUID().slice(0, 8)}`;
    const runtime = await started({ env: env(root, { MQTT_CLIENT_ID: clientId, MQTT_CLEAN_SESSION: 'false' }), store, logger });
    const client = await publisher();
    await client.publishAsync(`${root}/dev-4/temp`, '7', { qos: 1 });
    const reading = await eventually(() => real.readings.latest('dev-4', 'temp'), 15_000);
    expect(reading).toMatchObject({ value: 7 });
    expect(await counted(runtime, 'failed')).toBe(1);
    expect(await counted(runtime, 'accepted')).toBe(1);
  });

  it('commits a burst of QoS 1 messages in batches, acknowledging none of a batch that failed: every reading arrives', async () => {
    const root = `t-${randomUUID()}`;
    const logger = createLogger('silent');
    const real = openStore({ kind: 'sqlite', path: ':memory:' }, logger);
    // The fault: one store write failing mid-burst (a full disk, say), which no real peer reproduces on demand.
    // It hits the first commit carrying readings: other commits (alert writes of other concerns) may come
    // first, and a burst may arrive as few batches, so a later one may never come.
    let commits = 0;
    let withReadings = 0;
    const store: Store = {
      ...real,
      alerts: {
        ...real.alerts,
        async commit(unit) {
          commits++;
          if (unit.readings.length > 0 && ++withReadings === 1) throw new Error('disk full');
          return real.alerts.commit(unit);
        },
      },
    };
    const clientId = `vigil-${randomUUID().slice(0, 8)}`;
    const runtime = await started({ env: env(root, { MQTT_CLIENT_ID: clientId, MQTT_CLEAN_SESSION: 'false' }), store, logger });
    const client = await publisher();
    const MESSAGES = 300;
    await Promise.all(Array.from({ length: MESSAGES }, (_, i) => client.publishAsync(`${root}/dev-${i}/temp`, String(i), { qos: 1 })));
    for (const i of [0, 150, MESSAGES - 1]) expect(await eventually(() => real.readings.latest(`dev-${i}`, 'temp'), 15_000)).toMatchObject({ value: i });
    await eventually(async () => ((await real.readings.latestAll()).length === MESSAGES ? true : undefined), 15_000);
    expect(await counted(runtime, 'failed')).toBeGreaterThan(0);
    // Batched: far fewer commits than messages (one per message before).
    expect(commits).toBeLessThan(MESSAGES / 2);
  });

  it('starts while the broker is unreachable, and readiness says so', async () => {
    const runtime = await started({ env: { ...env(`t-${randomUUID()}`), MQTT_URL: 'mqtt://127.0.0.1:1' } });
    const response = await runtime.app.request('/readyz');
    expect(response.status).toBe(503);
    const body = (await response.json()) as { checks: Record<string, { ok: boolean; detail: string }> };
    expect(body.checks.mqtt.ok).toBe(false);
    expect(body.checks.mqtt.detail).toContain('not connected to mqtt://127.0.0.1:1');
  });
});
