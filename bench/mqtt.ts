/**
 * MQTT in, rules evaluated: Vigil embedded with its MQTT source (one rule actor per device, 1k
 * rules, alert events committed, QoS 1 acknowledged after storing) beside the floor, a plain
 * `mqtt` + `Map` subscriber doing the same threshold and per-device transition, in the same run.
 * Figures: ready (spawn → subscribed, no rules), idle RSS, messages/s at QoS 0 and QoS 1, CPU-s per
 * 100k messages. The publisher is paced by what the subscriber has handled (at most WINDOW
 * outstanding): Mosquitto keeps at most 1,000 queued QoS 1 messages per subscriber
 * (max_queued_messages) and drops the rest, so an unpaced burst would measure losses, not speed.
 */
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';

const MESSAGES = Number(process.env.BENCH_MQTT_MESSAGES ?? 50_000);
const DEVICES = 1_000;
const WINDOW = 500;
const SUBJECT = fileURLToPath(new URL('./_mqtt-subjects.js', import.meta.url));

interface Report {
  handled: number;
  rss: number;
  cpu: NodeJS.CpuUsage;
}

interface Child {
  process: ChildProcess;
  readyMs: number;
  report(): Promise<Report>;
  /** Messages handled so far (cheap: no RSS or CPU reading). */
  progress(): Promise<number>;
  stop(): Promise<void>;
}

async function spawnSubject(kind: 'vigil' | 'floor', qos: 0 | 1, rules: number, root: string): Promise<Child> {
  const started = performance.now();
  const child = fork(SUBJECT, [kind, String(qos), String(rules), root], { execArgv: [...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [])], stdio: 'inherit' });
  const [ready] = (await once(child, 'message')) as [{ type: string }];
  if (ready.type !== 'ready') throw new Error(`${kind}: expected ready, got ${ready.type}`);
  const readyMs = performance.now() - started;
  return {
    process: child,
    readyMs,
    async report() {
      child.send({ type: 'report' });
      for (;;) {
        const [message] = (await once(child, 'message')) as [Report & { type: string }];
        if (message.type === 'report') return message;
      }
    },
    async progress() {
      child.send({ type: 'progress' });
      for (;;) {
        const [message] = (await once(child, 'message')) as [{ type: string; handled: number }];
        if (message.type === 'progress') return message.handled;
      }
    },
    async stop() {
      child.send({ type: 'stop' });
      await once(child, 'exit');
    },
  };
}

/** Value of message n: ~5 % of devices cross the threshold (80) and come back, so transitions happen. */
const valueOf = (n: number) => (n % 20 === 7 ? 85 + (n % 5) : 20 + (n % 40));

/** Publishes MESSAGES over DEVICES, keeping at most WINDOW ahead of what the subscriber handled. */
async function throughput(child: Child, qos: 0 | 1, root: string): Promise<{ rate: number; cpuPer100k: number; handled: number }> {
  const publisher = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { protocolVersion: 5 });
  const before = await child.report();
  const base = before.handled;
  const started = performance.now();
  let handled = 0;
  let sent = 0;
  while (handled < MESSAGES) {
    const room = Math.min(MESSAGES - sent, WINDOW - (sent - handled));
    const publishes: Promise<unknown>[] = [];
    for (let i = 0; i < room; i++, sent++) publishes.push(publisher.publishAsync(`${root}/d${sent % DEVICES}/temp`, String(valueOf(sent)), { qos }));
    await Promise.all(publishes);
    // The window is full: give the subscriber a moment rather than polling it in a tight loop.
    if (room < WINDOW / 10) await new Promise((resolve) => setTimeout(resolve, 2));
    handled = (await child.progress()) - base;
    if (room === 0 && sent === MESSAGES && performance.now() - started > 600_000) throw new Error(`only ${handled} of ${MESSAGES} handled`);
  }
  const seconds = (performance.now() - started) / 1_000;
  const after = await child.report();
  await publisher.endAsync();
  const cpu = (after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system) / 1e6;
  return { rate: MESSAGES / seconds, cpuPer100k: (cpu / MESSAGES) * 100_000, handled };
}

async function readiness(kind: 'vigil' | 'floor'): Promise<{ readyMs: number; rssMb: number }> {
  const child = await spawnSubject(kind, 1, 0, `bench-${randomUUID()}`);
  await new Promise((resolve) => setTimeout(resolve, 1_000)); // idle: what it holds once settled
  const { rss } = await child.report();
  await child.stop();
  return { readyMs: child.readyMs, rssMb: rss / 2 ** 20 };
}

// The subjects run the built package (dist/), as an embedder would: build it when a source changed.
const build = spawnSync(process.execPath, [fileURLToPath(new URL('../scripts/build.js', import.meta.url)), '--if-stale'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(1);

const figures: Record<string, Record<string, number>> = {};
for (const kind of ['floor', 'vigil'] as const) {
  const ready = await readiness(kind);
  figures[kind] = { ready_ms: Math.round(ready.readyMs), idle_rss_mb: Math.round(ready.rssMb) };
  for (const qos of [0, 1] as const) {
    const root = `bench-${randomUUID()}`;
    const child = await spawnSubject(kind, qos, kind === 'vigil' ? DEVICES : 0, root);
    const result = await throughput(child, qos, root);
    await child.stop();
    figures[kind]![`qos${qos}_msgs_per_s`] = Math.round(result.rate);
    figures[kind]![`qos${qos}_cpu_s_per_100k`] = Number(result.cpuPer100k.toFixed(2));
  }
}

const v = figures.vigil!;
const f = figures.floor!;
const ratio = (a: number, b: number) => `${((a / b) * 100).toFixed(0)} % of floor`;
const rows: [string, string, string, string][] = [
  ['ready, spawn → subscribed (ms, no rules)', String(f.ready_ms), String(v.ready_ms), 'target ≤ 1000 (plain node, the built package)'],
  ['idle RSS (MB, no rules)', String(f.idle_rss_mb), String(v.idle_rss_mb), 'target ≤ 100'],
  ['msgs/s QoS 0 (1k rules)', String(f.qos0_msgs_per_s), String(v.qos0_msgs_per_s), `${ratio(v.qos0_msgs_per_s!, f.qos0_msgs_per_s!)}; target ≥ 14,000`],
  ['msgs/s QoS 1 (1k rules, ack after commit)', String(f.qos1_msgs_per_s), String(v.qos1_msgs_per_s), `${ratio(v.qos1_msgs_per_s!, f.qos1_msgs_per_s!)}; target ≥ 10,600`],
  ['CPU-s per 100k, QoS 0', String(f.qos0_cpu_s_per_100k), String(v.qos0_cpu_s_per_100k), ''],
  ['CPU-s per 100k, QoS 1', String(f.qos1_cpu_s_per_100k), String(v.qos1_cpu_s_per_100k), ''],
];
console.log(`${MESSAGES.toLocaleString('en')} messages over ${DEVICES} devices, ~5 % crossing; publisher paced to ≤ ${WINDOW} outstanding`);
console.log(['figure'.padEnd(44), 'floor'.padStart(9), 'vigil'.padStart(9), '  vs'].join(' '));
for (const [name, floor, vigil, note] of rows) console.log([name.padEnd(44), floor.padStart(9), vigil.padStart(9), ` ${note}`].join(' '));
console.log(JSON.stringify({ bench: 'mqtt', messages: MESSAGES, floor: f, vigil: v, qos0_ratio: Number((v.qos0_msgs_per_s! / f.qos0_msgs_per_s!).toFixed(3)), qos1_ratio: Number((v.qos1_msgs_per_s! / f.qos1_msgs_per_s!).toFixed(3)) }));
