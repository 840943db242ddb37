/**
 * Reading → alert latency on Kafka: two `vigil run` processes in one consumer group on the broker at
 * KAFKA_BROKERS and one PostgreSQL schema. Each sample posts a reading to one instance (fire, then
 * resolve, alternately) and polls the OTHER instance's `GET /alerts/events` until the change shows.
 * Baseline, in the same run: one `vigil run` on the in-process broker and the same PostgreSQL, the
 * reading posted to it and the change polled on it. Prints p50/p99/max of both and the ratio, and
 * how long a rule created on one instance takes to run on the instance owning its device.
 * Run: `KAFKA_BROKERS=127.0.0.1:9092 npx tsx bench/kafka-latency.ts` (SAMPLES=100 to change).
 */
import { randomUUID } from 'node:crypto';
import { clusterEnv, devicesCovering, freshSchema, KAFKA_BROKERS, killHard, ruleActors, startInstance, type Instance } from '../test/e2e/kafka-cluster.ts';

const SAMPLES = Number(process.env.SAMPLES ?? 100);
const DEVICES = 10;
const RULE_SAMPLES = 20;
const POLL_MS = 5;

const post = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function openEvents(instance: Instance, ruleId: string): Promise<number> {
  const response = await fetch(`${instance.url}/alerts/events?alert_id=${ruleId}&is_resolved=false`);
  return ((await response.json()) as { events: unknown[] }).events.length;
}

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(POLL_MS);
  }
}

/** Posts `SAMPLES` readings alternately firing and resolving the rules; each timed until `watcher` shows it. */
async function measure(sender: (i: number) => Instance, watcher: (i: number) => Instance, ids: string[], devices: string[]): Promise<number[]> {
  const took: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const device = i % devices.length;
    const firing = Math.floor(i / devices.length) % 2 === 0;
    const started = performance.now();
    const response = await post(`${sender(i).url}/readings`, { device_id: devices[device], metric: 'temp', value: firing ? 80 : 10 });
    if (response.status !== 202) throw new Error(`POST /readings answered ${response.status}`);
    await until(async () => (await openEvents(watcher(i), ids[device]!)) === (firing ? 1 : 0), `sample ${i}`);
    took.push(performance.now() - started);
  }
  return took;
}

/** Rules created on `a` for devices `b` owns (a new metric each time), timed until `b` runs them. */
async function ruleChangeLatency(a: Instance, b: Instance, devices: string[], ids: string[]): Promise<number[]> {
  const inB = (await ruleActors(b))!;
  const ownedByB = devices.filter((_, i) => inB.has(ids[i]!));
  const took: number[] = [];
  for (let i = 0; i < RULE_SAMPLES; i++) {
    const device = ownedByB[i % ownedByB.length]!;
    const id = `new-${i}-${device}`;
    const started = performance.now();
    const response = await post(`${a.url}/rules`, { id, name: `new ${i}`, device_id: device, metric: `m${i}`, operator: '>', threshold: 50 });
    if (response.status !== 201) throw new Error(`POST /rules answered ${response.status}`);
    await until(async () => (await ruleActors(b))?.has(id) === true, `rule ${id} on its owner`);
    took.push(performance.now() - started);
  }
  return took;
}

async function createRules(instance: Instance, devices: string[]): Promise<string[]> {
  const ids = devices.map((device) => `hot-${device}`);
  for (const [i, device] of devices.entries()) {
    const response = await post(`${instance.url}/rules`, { id: ids[i], name: `hot ${device}`, device_id: device, metric: 'temp', operator: '>', threshold: 50 });
    if (response.status !== 201) throw new Error(`POST /rules answered ${response.status}`);
  }
  return ids;
}

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
const figures = (took: number[]) => {
  const sorted = [...took].sort((a, b) => a - b);
  return { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: sorted.at(-1)! };
};

async function main(): Promise<void> {
  if (!KAFKA_BROKERS) {
    console.log('SKIPPED: set KAFKA_BROKERS (../shared/tools/kafka/start.sh, then KAFKA_BROKERS=127.0.0.1:9092) to run the Kafka latency benchmark');
    return;
  }
  const run = randomUUID().slice(0, 8);
  const started: Instance[] = [];
  const schemas: Array<() => Promise<void>> = [];
  try {
    // Baseline: one instance, in-process broker.
    const single = await freshSchema();
    schemas.push(single.drop);
    const { KAFKA_BROKERS: _unused, KAFKA_GROUP_ID: _group, ...memoryEnv } = clusterEnv(single.databaseUrl, 'unused');
    const alone = await startInstance('alone', memoryEnv);
    started.push(alone);
    const baselineDevices = Array.from({ length: DEVICES }, (_, i) => `bench-${run}-mem-${i}`);
    const baselineIds = await createRules(alone, baselineDevices);
    const baseline = figures(await measure(() => alone, () => alone, baselineIds, baselineDevices));
    killHard(alone);

    // Two instances on Kafka: posted to one, watched on the other.
    const shared = await freshSchema();
    schemas.push(shared.drop);
    const env = clusterEnv(shared.databaseUrl, `vigil-bench-${run}`);
    const a = await startInstance('a', env);
    started.push(a);
    const b = await startInstance('b', env);
    started.push(b);
    const devices = devicesCovering(6, DEVICES, `bench-${run}`).concat(Array.from({ length: Math.max(0, DEVICES - 6) }, (_, i) => `bench-${run}-x${i}`));
    const ids = await createRules(a, devices);
    await until(async () => {
      const [inA, inB] = [await ruleActors(a), await ruleActors(b)];
      return !!inA && !!inB && inA.size > 0 && inB.size > 0 && ids.every((id) => inA.has(id) !== inB.has(id));
    }, 'the rules to split between the two instances', 60_000);
    const kafka = figures(await measure((i) => (i % 2 === 0 ? a : b), (i) => (i % 2 === 0 ? b : a), ids, devices));
    const adoption = figures(await ruleChangeLatency(a, b, devices, ids));

    const row = (name: string, f: ReturnType<typeof figures>) => `${name.padEnd(44)} ${f.p50.toFixed(1).padStart(8)} ${f.p99.toFixed(1).padStart(8)} ${f.max.toFixed(1).padStart(8)}`;
    console.log(`reading posted → alert event visible, ${SAMPLES} samples each (ms)`);
    console.log(`${''.padEnd(44)} ${'p50'.padStart(8)} ${'p99'.padStart(8)} ${'max'.padStart(8)}`);
    console.log(row('baseline: one instance, in-process broker', baseline));
    console.log(row('kafka: posted to one of two, seen on other', kafka));
    console.log(row('rule created on A → its actor runs on owner B', adoption));
    console.log(`p99 ratio kafka / baseline: ${(kafka.p99 / baseline.p99).toFixed(2)}; target p99 ≤ 1000 ms: ${kafka.p99 <= 1_000 ? 'met' : 'NOT met'}`);
    console.log(JSON.stringify({ bench: 'kafka-latency', samples: SAMPLES, baseline, kafka, p99Ratio: kafka.p99 / baseline.p99, targetMet: kafka.p99 <= 1_000, ruleAdoption: adoption }));
  } finally {
    for (const instance of started) if (instance.alive) killHard(instance);
    for (const drop of schemas) await drop().catch(() => undefined);
  }
}

await main();
