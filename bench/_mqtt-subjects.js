/**
 * The two subscribers bench/mqtt.ts measures, each run in a process of its own with plain Node, no
 * loader (`node bench/_mqtt-subjects.js <vigil|floor> <qos> <rules> <root>`), Vigil imported from the
 * built package (`npm run build`) by its name, as an embedder imports it:
 * - floor: plain mqtt + a Map, the same threshold and per-device transition, nothing stored;
 * - vigil: an embedded runtime with the MQTT source, one rule actor per device, events committed.
 * Each says `ready` once subscribed, then reports messages handled, RSS and CPU when asked.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';

const [kind, qosText, rulesText, root] = process.argv.slice(2);
const qos = Number(qosText);
const rules = Number(rulesText);
const THRESHOLD = 80;

async function floor() {
  const state = new Map();
  let handled = 0;
  let transitions = 0;
  const client = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { protocolVersion: 5 });
  client.on('message', (topic, payload) => {
    const device = topic.split('/')[1];
    const value = Number(payload.toString());
    const firing = value > THRESHOLD;
    if ((state.get(device) ?? false) !== firing) transitions++;
    state.set(device, firing);
    handled++;
  });
  await client.subscribeAsync(`${root}/+/+`, { qos });
  // `transitions` is the work the job asks of the floor; it is counted so it is not optimised away.
  return { handled: async () => (transitions >= 0 ? handled : 0), stop: () => client.endAsync() };
}

async function vigil() {
  const { createRuntime } = await import('@vigil-alerts/vigil');
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-mqtt-'));
  const runtime = createRuntime({
    inheritEnv: false,
    env: {
      DATABASE_URL: `sqlite:${join(dir, 'vigil.db')}`,
      LOG_LEVEL: 'silent',
      PUBLISH_INTERVAL_SECONDS: '0',
      ALERT_INTERVAL_SECONDS: '3600',
      ALERT_MODE: 'reactive',
      MQTT_URL: 'mqtt://127.0.0.1:1883',
      MQTT_TOPICS: `${root}/+/+`,
      MQTT_TOPIC_TEMPLATE: `${root}/{device_id}/{metric}`,
      MQTT_QOS: String(qos),
    },
  });
  await runtime.start({ listen: false });
  for (let i = 0; i < rules; i++) {
    await runtime.rules.create({ id: `r${i}`, name: `d${i} hot`, device_id: `d${i}`, metric: 'temp', operator: '>', threshold: THRESHOLD });
  }
  const handled = async () => {
    const counter = runtime.metrics.getSingleMetric('vigil_mqtt_messages_total');
    const { values } = await counter.get();
    return values.reduce((sum, { value }) => sum + value, 0);
  };
  return {
    handled,
    async stop() {
      await runtime.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const subject = kind === 'vigil' ? await vigil() : await floor();
process.send({ type: 'ready' });
process.on('message', (message) => {
  if (message.type === 'progress') void subject.handled().then((handled) => process.send({ type: 'progress', handled }));
  if (message.type === 'report') {
    void subject.handled().then((handled) => process.send({ type: 'report', handled, rss: process.memoryUsage().rss, cpu: process.cpuUsage() }));
  }
  if (message.type === 'stop') void subject.stop().then(() => process.exit(0));
});
