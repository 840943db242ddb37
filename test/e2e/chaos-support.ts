import { killTree } from '../support/processes.ts';
import { startVigil, type VigilProcess } from './cli.ts';

/**
 * kill -9 of a started `vigil` and every process under it: the bin may run Vigil in a child process,
 * and a SIGKILL does not travel down, so the deepest one (Vigil itself) goes first.
 */
export function killHard(vigil: VigilProcess): void {
  killTree(vigil.child.pid!);
}

/** How many kills (and how long a stream) the chaos suite runs: VIGIL_CHAOS_KILLS raises it on demand. */
export const CHAOS_KILLS = Math.max(10, Number(process.env.VIGIL_CHAOS_KILLS ?? 10));

/** A deterministic source of numbers in [0, 1) (mulberry32). */
export function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** One reading of the stream: every value is unique, so an event names the reading it fired or resolved on. */
export interface StreamReading {
  device_id: string;
  metric: string;
  value: number;
  ts: string;
}

/** A rule of the suite: `> threshold`, clearing at `clear` (null: at the threshold), for_seconds 0. */
export interface ChaosRule {
  id: string;
  name: string;
  device_id: string;
  metric: string;
  operator: '>';
  threshold: number;
  clear_threshold: number | null;
  for_seconds: 0;
  channels: string[];
}

/** `count` rules over as many devices; every other one has a clear threshold (hysteresis). */
export function chaosRules(count: number, channels: string[]): ChaosRule[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `chaos-${i}`,
    name: `chaos rule ${i}`,
    device_id: `dev-${i}`,
    metric: 'load',
    operator: '>',
    threshold: 50,
    clear_threshold: i % 2 === 0 ? null : 40,
    for_seconds: 0,
    channels,
  }));
}

/** `count` readings over the rules' devices, timestamps strictly increasing, values unique. */
export function chaosStream(rules: ChaosRule[], count: number, seed: number): StreamReading[] {
  const random = seeded(seed);
  const start = Date.parse('2030-01-01T00:00:00.000Z');
  return Array.from({ length: count }, (_, n) => {
    const rule = rules[Math.floor(random() * rules.length)]!;
    // Around the thresholds most of the time, so rules flap; the sequence number makes each value unique.
    const value = Math.round((20 + random() * 60) * 10) / 10 + n / 1_000_000;
    return { device_id: rule.device_id, metric: rule.metric, value, ts: new Date(start + n * 10).toISOString() };
  });
}

/** An event as the stream implies it: the values of the readings it fired and resolved on. */
export interface ExpectedEvent {
  rule: string;
  fired: number;
  resolved: number | null;
}

/** The events each rule must have, computed from the stream as the threshold semantics define them. */
export function expectedEvents(rules: ChaosRule[], stream: StreamReading[]): ExpectedEvent[] {
  const events: ExpectedEvent[] = [];
  for (const rule of rules) {
    let open: ExpectedEvent | undefined;
    for (const reading of stream) {
      if (reading.device_id !== rule.device_id) continue;
      if (!open && reading.value > rule.threshold) events.push((open = { rule: rule.id, fired: reading.value, resolved: null }));
      else if (open && !(reading.value > (rule.clear_threshold ?? rule.threshold))) {
        open.resolved = reading.value;
        open = undefined;
      }
    }
  }
  return events;
}

/** The stream cut into requests of 1–12 readings, each request holding the readings of one lane's devices. */
export function lanes(stream: StreamReading[], laneCount: number, seed: number): StreamReading[][][] {
  const random = seeded(seed);
  const laneOf = (reading: StreamReading) => Number(reading.device_id.slice('dev-'.length)) % laneCount;
  return Array.from({ length: laneCount }, (_, lane) => {
    const own = stream.filter((reading) => laneOf(reading) === lane);
    const batches: StreamReading[][] = [];
    for (let i = 0; i < own.length; ) {
      const size = 1 + Math.floor(random() * 12);
      batches.push(own.slice(i, i + size));
      i += size;
    }
    return batches;
  });
}

/** A Vigil that can be killed and restarted on the same database: `url()` waits for the current process to listen. */
export function restartableVigil(env: Record<string, string>) {
  let current: VigilProcess;
  let listening: Promise<string>;
  const launch = () => {
    current = startVigil(['run'], env);
    listening = current.waitForLog((line) => line.msg === 'vigil listening', 60_000).then((line) => String(line.url));
  };
  launch();
  return {
    url: () => listening,
    get process() {
      return current;
    },
    /** kill -9, then start again. */
    async killAndRestart(): Promise<void> {
      const dead = current;
      killHard(dead);
      await dead.exit();
      launch();
      await listening;
    },
    async stop(): Promise<number | null> {
      current.child.kill('SIGTERM');
      return current.exit();
    },
  };
}

/** POSTs one batch until it is acknowledged (202), resending after any failure, on whatever process is up. */
export async function sendUntilAcknowledged(url: () => Promise<string>, batch: StreamReading[], onAck: () => void): Promise<number> {
  let resends = 0;
  for (;;) {
    try {
      const response = await fetch(`${await url()}/readings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(batch) });
      await response.arrayBuffer();
      if (response.status === 202) {
        onAck();
        return resends;
      }
      if (response.status !== 503) throw new Error(`unexpected status ${response.status}`);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('unexpected status')) throw error;
    }
    resends++;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
