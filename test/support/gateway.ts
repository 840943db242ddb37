import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import { eventually } from '../e2e/cli.ts';
import { startCommand, type Started } from './processes.ts';

/** A running examples/edge-gateway process. */
export interface Gateway {
  process: Started;
  /** The gateway's base URL; Vigil is mounted at `${url}/vigil`. */
  url: string;
  /** The MQTT topic root of this gateway alone: `${root}/{device_id}/{metric}`. */
  root: string;
  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts `node gateway.js` in `cwd` (plain node, as an embedder runs it) on a port of its choosing,
 * with `databaseUrl` and MQTT topics of its own, and waits until it listens.
 */
export async function startGateway(cwd: string, gatewayId: string, databaseUrl: string): Promise<Gateway> {
  const root = `gw-${randomUUID()}`;
  const started = startCommand(process.execPath, ['gateway.js'], cwd, {
    GATEWAY_PORT: '0',
    GATEWAY_ID: gatewayId,
    DATABASE_URL: databaseUrl,
    MQTT_TOPICS: `${root}/+/+`,
    MQTT_TOPIC_TEMPLATE: `${root}/{device_id}/{metric}`,
  });
  const stop = async () => {
    started.child.kill('SIGTERM');
    return started.exited;
  };
  try {
    const url = await eventually(async () => /"url":"([^"]+)","dashboard"/.exec(started.output())?.[1], 30_000);
    return { process: started, url, root, stop };
  } catch (error) {
    started.child.kill('SIGKILL');
    throw error;
  }
}

/**
 * The gateway's own readings (in-process) are accepted and counted: how many so far. Not read from
 * the load rule's actor: a value below the threshold leaves a rule in `ok` untouched by design, so its
 * context shows a value only when the machine's load average is above 8.
 */
export function ownReadingsAccepted(gateway: Gateway): Promise<number> {
  return eventually(async () => {
    const text = await (await fetch(`${gateway.url}/vigil/metrics`)).text();
    const count = Number(/^vigil_readings_total\{outcome="accepted"\} (\d+)/m.exec(text)?.[1] ?? 0);
    return count >= 2 ? count : undefined;
  }, 30_000);
}

/**
 * Creates a rule over the mounted API (201 expected), publishes an MQTT reading above its threshold,
 * and resolves with the gateway's `/firing` rule ids once the rule fires there.
 */
export async function mqttReadingFires(gateway: Gateway): Promise<{ created: number; firing: string[] }> {
  const rule = { id: 'pump-hot', name: 'pump hot', device_id: 'pump-1', metric: 'temp', operator: '>', threshold: 70 };
  const created = await fetch(`${gateway.url}/vigil/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rule) });
  if (created.status !== 201) return { created: created.status, firing: [] };
  const client = await mqtt.connectAsync('mqtt://127.0.0.1:1883');
  try {
    await client.publishAsync(`${gateway.root}/pump-1/temp`, '75', { qos: 1 });
  } finally {
    await client.endAsync();
  }
  const firing = await eventually(async () => {
    const body = (await (await fetch(`${gateway.url}/firing`)).json()) as { rules: { rule_id: string }[] };
    const ids = body.rules.map((r) => r.rule_id);
    return ids.includes(rule.id) ? ids : undefined;
  }, 30_000);
  return { created: created.status, firing };
}
