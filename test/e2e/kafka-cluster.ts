import { Kafka, logLevel } from 'kafkajs';
import { TOPICS } from '../../src/streams/broker.ts';
import { kafkaPartitionOf } from '../../src/streams/brokers/kafka-partitioner.ts';
import { kafkaBrokers } from '../support/kafka.ts';
import { freshSchema, POSTGRES_URL } from '../support/postgres.ts';
import { killTree } from '../support/processes.ts';
import { expect } from 'vitest';
import { eventually, send, startVigil, type VigilProcess } from './cli.ts';

export { freshSchema, POSTGRES_URL };

/** Kafka and PostgreSQL for tests of several `vigil run` processes; KAFKA_BROKERS unset = not available. */
export const KAFKA_BROKERS = kafkaBrokers.length > 0 ? kafkaBrokers.join(',') : undefined;
/** How long a step of a cluster test may take on a loaded 2-core machine. */
export const LOADED_WAIT_MS = 45_000;

/** A `vigil run` process of a cluster, with its HTTP base URL. */
export interface Instance {
  name: string;
  vigil: VigilProcess;
  url: string;
  alive: boolean;
}

/** The environment of one instance of a test cluster: its own group id, no rate limits, timings of the defaults. */
export function clusterEnv(databaseUrl: string, groupId: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PORT: '0',
    DATABASE_URL: databaseUrl,
    KAFKA_BROKERS: KAFKA_BROKERS ?? '',
    KAFKA_GROUP_ID: groupId,
    ENABLE_RATE_LIMITING: 'false',
    PUBLISH_INTERVAL_SECONDS: '3600',
    // Long enough that only the rule change feed and the rebalances move rules in a test.
    ALERT_INTERVAL_SECONDS: '3600',
    LOG_LEVEL: 'info',
    ...extra,
  };
}

/** Starts `vigil run` and waits until it listens. */
export async function startInstance(name: string, env: Record<string, string>): Promise<Instance> {
  const vigil = startVigil(['run'], env);
  const line = await vigil.waitForLog((entry) => entry.msg === 'vigil listening', 60_000);
  return { name, vigil, url: String(line.url), alive: true };
}

/** kill -9 of the instance and of every process under it (the `vigil` launcher runs the CLI as a child). */
export function killHard(instance: Instance): void {
  instance.alive = false;
  killTree(instance.vigil.child.pid!);
}

/** The rule actors an instance runs now, by rule id (undefined when it does not answer). */
export async function ruleActors(instance: Instance): Promise<Map<string, unknown> | undefined> {
  try {
    const response = await fetch(`${instance.url}/actors?kind=rule`);
    if (!response.ok) return undefined;
    const body = (await response.json()) as { actors: Array<{ id: string; value: unknown }> };
    return new Map(body.actors.map((actor) => [actor.id.slice('rule:'.length), actor.value]));
  } catch {
    return undefined;
  }
}

/** `count` device ids whose readings land in distinct partitions (all of them when count = partitions). */
export function devicesCovering(partitions: number, count: number, prefix: string): string[] {
  const byPartition = new Map<number, string>();
  for (let i = 0; byPartition.size < Math.min(count, partitions); i++) {
    const device = `${prefix}-${i}`;
    const partition = kafkaPartitionOf(device, partitions);
    if (!byPartition.has(partition)) byPartition.set(partition, device);
  }
  return [...byPartition.values()];
}

/**
 * Samples every live instance's rule actors over and over, and records a rule seen in two instances
 * at once: in instance Y while X held it both in the sample before and in the sample after.
 */
export function watchOwnership(instances: Instance[]) {
  const samples: Array<{ instance: string; rules: Set<string> }> = [];
  const overlaps: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const instance of instances.filter((each) => each.alive)) {
        const rules = await ruleActors(instance);
        if (rules && instance.alive) samples.push({ instance: instance.name, rules: new Set(rules.keys()) });
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  const findOverlaps = (): void => {
    const last = new Map<string, number>();
    samples.forEach((sample, index) => {
      for (const [other, before] of last) {
        if (other === sample.instance) continue;
        const after = samples.findIndex((each, at) => at > index && each.instance === other);
        if (after < 0) continue;
        for (const rule of sample.rules) {
          if (samples[before]!.rules.has(rule) && samples[after]!.rules.has(rule)) overlaps.push(`${rule} in ${other} and ${sample.instance}`);
        }
      }
      last.set(sample.instance, index);
    });
  };
  return {
    async stop(): Promise<string[]> {
      running = false;
      await loop;
      findOverlaps();
      return overlaps;
    },
    get sampleCount() {
      return samples.length;
    },
  };
}

/** Waits until each rule has exactly one actor across the live instances; returns rule → instance name. */
export async function exactlyOneActorEach(instances: Instance[], ids: string[], timeoutMs: number): Promise<Map<string, string>> {
  return eventually(async () => {
    const owners = new Map<string, string[]>();
    for (const instance of instances.filter((each) => each.alive)) {
      const rules = await ruleActors(instance);
      if (!rules) return undefined;
      for (const id of ids) if (rules.has(id)) owners.set(id, [...(owners.get(id) ?? []), instance.name]);
    }
    if (!ids.every((id) => owners.get(id)?.length === 1)) return undefined;
    return new Map(ids.map((id) => [id, owners.get(id)![0]!]));
  }, timeoutMs, 50);
}

/**
 * Waits until the instances' consumer group has settled with every one of them in it: each one's
 * latest word on the group is an assignment of readings partitions, and together they hold each
 * partition once. `vigil listening` comes before an instance has joined the group, and the members
 * already in it only rejoin at their next heartbeat: rules created before that run where they did.
 */
export async function groupSettled(instances: Instance[], groupId: string, partitions: number): Promise<void> {
  await eventually(async () => {
    const held: number[] = [];
    for (const instance of instances) {
      const lines = instance.vigil
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { groupId?: string; msg?: string; assignment?: Record<string, number[]> })
        .filter((line) => line.groupId === groupId && (line.msg === 'kafka partitions assigned' || line.msg === 'kafka consumer group rebalancing'));
      const mine = lines.at(-1)?.assignment?.[TOPICS.deviceReadings] ?? [];
      if (mine.length === 0) return undefined;
      held.push(...mine);
    }
    return held.length === partitions && new Set(held).size === partitions ? true : undefined;
  }, LOADED_WAIT_MS, 50);
}

/** How many partitions the readings topic has (created with the broker's default count unless it exists). */
export async function partitionsOfReadings(): Promise<number> {
  const admin = new Kafka({ clientId: 'vigil-e2e', brokers: [...kafkaBrokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    // Created with the broker's default partition count unless it exists already.
    await admin.createTopics({ topics: [{ topic: TOPICS.deviceReadings }], waitForLeaders: true });
    const metadata = await eventually(async () => {
      const found = (await admin.fetchTopicMetadata({ topics: [TOPICS.deviceReadings] })).topics[0];
      return found && found.partitions.length > 0 ? found : undefined;
    }, 20_000, 200);
    return metadata.partitions.length;
  } finally {
    await admin.disconnect();
  }
}

/** A rule's state on an instance, as `GET /actors/rule:<id>` shows it. */
export async function ruleStateOn(instance: Instance, id: string): Promise<{ value?: unknown; context?: { activeAt?: number } }> {
  return (await send(instance.url, 'GET', `/actors/rule:${id}`)).body as { value?: unknown; context?: { activeAt?: number } };
}

/**
 * A rule on every readings partition, created on `on` (the group's only member), each pending for an
 * hour after one breaching reading: their ids, and when each went pending (its `activeAt`), which a
 * handover must keep.
 */
export async function pendingOnEveryPartition(on: Instance, partitions: number, prefix: string): Promise<{ ids: string[]; activeAt: Map<string, number> }> {
  const devices = devicesCovering(partitions, partitions, prefix);
  const ids = devices.map((device) => `slow-${device}`);
  for (const [i, device] of devices.entries()) {
    const rule = { id: ids[i], name: 'slow', device_id: device, metric: 'temp', operator: '>', threshold: 50, for_seconds: 3_600 };
    expect((await send(on.url, 'POST', '/rules', rule)).status).toBe(201);
  }
  await exactlyOneActorEach([on], ids, LOADED_WAIT_MS);
  for (const device of devices) expect((await send(on.url, 'POST', '/readings', [{ device_id: device, metric: 'temp', value: 60 }])).status).toBe(202);
  const activeAt = new Map<string, number>();
  for (const id of ids) {
    activeAt.set(id, await eventually(async () => {
      const { value, context } = await ruleStateOn(on, id);
      return value === 'pending' ? context?.activeAt : undefined;
    }, 30_000));
  }
  return { ids, activeAt };
}

/** After a handover: every rule of `ids` runs on exactly one instance, still pending since its `activeAt`; returns the rules that moved to `to`. */
export async function pendingKeptAcross(started: Instance[], activeAt: Map<string, number>, to: string): Promise<string[]> {
  const ids = [...activeAt.keys()];
  const owners = await exactlyOneActorEach(started, ids, LOADED_WAIT_MS);
  for (const id of ids) {
    const owner = started.find((instance) => instance.name === owners.get(id))!;
    expect(await ruleStateOn(owner, id)).toMatchObject({ value: 'pending', context: { activeAt: activeAt.get(id) } });
  }
  return ids.filter((id) => owners.get(id) === to);
}
