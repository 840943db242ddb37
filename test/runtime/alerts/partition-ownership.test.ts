import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { firstValueFrom } from 'rxjs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ruleInputSchema } from '../../../src/domain/rule-schema.ts';
import { createRuntime, type Runtime } from '../../../src/create-runtime.ts';
import { stateName } from '../../../src/runtime/alerts/rule-actors.ts';
import { createLogger } from '../../../src/runtime/logger.ts';
import { TOPICS } from '../../../src/streams/broker.ts';
import { createKafkaBroker } from '../../../src/streams/brokers/kafka.ts';
import { createPostgresStore } from '../../../src/storage/postgres/index.ts';
import { Kafka, logLevel } from 'kafkajs';
import { kafkaBrokers, skippedWithoutKafka } from '../../support/kafka.ts';

const url = process.env.VIGIL_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const brokers = [...kafkaBrokers];
/** The devices of the test running now: new ids per test, since every group reads the readings topic from its start. */
let DEVICES: string[] = [];
const baseEnv = { LOG_LEVEL: 'silent', PUBLISH_INTERVAL_SECONDS: '3600', ALERT_INTERVAL_SECONDS: '3600', ALERT_MODE: 'reactive', KAFKA_BROKERS: brokers.join(',') };
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function unreachable(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}
const problem = await unreachable();
const schemas: string[] = [];

afterAll(async () => {
  if (problem !== undefined) return;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  for (const schema of schemas.splice(0)) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
});

/** Rule actors running in a runtime, by rule id. */
const ruleIds = (runtime: Runtime): string[] => [...runtime.actors.entries('rule')].map((entry) => entry.id).sort();
const stateOf = (runtime: Runtime, ruleId: string): string => stateName(runtime.actors.get(`rule:${ruleId}`)?.actor.getSnapshot().value);

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

if (brokers.length === 0) {
  skippedWithoutKafka('partition-owned rules', 'runs with two runtimes sharing one PostgreSQL and one Kafka consumer group');
} else if (problem !== undefined && !process.env.CI) {
  console.warn(`SKIPPED: partition-owned rules: PostgreSQL at ${url} is unreachable (${problem}); set VIGIL_TEST_POSTGRES_URL`);
  describe.skip('partition-owned rules (PostgreSQL unreachable)', () => {
    it('runs with two runtimes sharing one PostgreSQL', () => undefined);
  });
} else {
  // Rebalances on a real broker take seconds, more on a loaded machine.
  describe('partition-owned rules: two runtimes, one PostgreSQL, one Kafka consumer group', { timeout: 90_000 }, () => {
    const running: Runtime[] = [];
    afterEach(async () => {
      for (const runtime of running.splice(0)) await runtime.stop();
    });

    /** A runtime on the real broker, in the test's own consumer group, and a store in the shared schema. */
    const runtimeOn = (groupId: string, schema: string): Runtime => {
      const logger = createLogger(process.env.TEST_LOG ?? 'silent');
      const kafka = new Kafka({ clientId: 'vigil-ownership-test', brokers, logLevel: logLevel.NOTHING });
      const runtime = createRuntime({
        inheritEnv: false,
        env: { ...baseEnv, KAFKA_GROUP_ID: groupId },
        logger,
        store: createPostgresStore({ url, schema, poolSize: 4 }),
        broker: createKafkaBroker({ kafka, logger, retry: { initialMs: 5, maxMs: 20 }, redelivery: { initialMs: 5, maxMs: 20 }, drainMs: 500 }),
      });
      running.push(runtime);
      return runtime;
    };

    /** Two instances (not started) in a consumer group and a fresh schema of their own, with a rule per device. */
    const twoInstances = async () => {
      const run = randomUUID().slice(0, 8);
      DEVICES = Array.from({ length: 8 }, (_, i) => `gw-${run}-${i + 1}`);
      const groupId = `vigil-ownership-${run}`;
      const schema = `vigil_test_${randomUUID().replaceAll('-', '')}`;
      schemas.push(schema);
      const a = runtimeOn(groupId, schema);
      const b = runtimeOn(groupId, schema);
      await a.store.migrate();
      const rules = [];
      for (const device of DEVICES) {
        rules.push(await a.store.rules.create(ruleInputSchema.parse({ name: `hot ${device}`, device_id: device, metric: 'temp', operator: '>', threshold: 50 })));
      }
      return { a, b, rules };
    };

    const rulesSplit = (a: Runtime, b: Runtime) =>
      until(() => ruleIds(b).length > 0 && ruleIds(a).length + ruleIds(b).length === DEVICES.length, 'the rules to split between A and B');

    it('runs each rule in exactly one instance as partitions move; a firing alert stays firing, with no duplicate event', async () => {
      const { a, b, rules } = await twoInstances();
      const partitionOf = new Map<string, number>();
      for (const device of DEVICES) partitionOf.set(device, await a.broker.partitionOf!(TOPICS.deviceReadings, device));
      expect(new Set(partitionOf.values()).size).toBeGreaterThan(1);

      // Sampled all along: a rule must never run in both instances at once.
      const overlaps: string[] = [];
      const sampler = setInterval(() => {
        const inB = new Set(ruleIds(b));
        overlaps.push(...ruleIds(a).filter((id) => inB.has(id)));
      }, 1);
      const publishAll = async (value: number, devices = DEVICES) => {
        for (const device of devices) await a.broker.publish(TOPICS.deviceReadings, { device_id: device, metric: 'temp', value }, { key: device });
      };
      const events = async () => a.store.alerts.list({});

      try {
        await a.start({ listen: false });
        await until(() => ruleIds(a).length === DEVICES.length, 'instance A to own every rule');
        await publishAll(80);
        await until(async () => (await events()).length === DEVICES.length, 'one open event per rule');

        await b.start({ listen: false });
        await rulesSplit(a, b);
        const inB = ruleIds(b);
        expect([...ruleIds(a), ...inB].sort()).toEqual(rules.map((rule) => `rule:${rule.id}`).sort());
        for (const id of inB) expect(stateOf(b, id.slice('rule:'.length))).toBe('firing');
        // B runs exactly the rules of the devices in the partitions assigned to it.
        const ofB = new Set(await firstValueFrom(b.broker.assignments!(TOPICS.deviceReadings)));
        expect(inB).toEqual(rules.filter((rule) => ofB.has(partitionOf.get(rule.device_id)!)).map((rule) => `rule:${rule.id}`).sort());

        // Still above the threshold: evaluated by the owner, still firing, no second event.
        await publishAll(90);
        await until(async () => (await a.store.readings.latestAll()).filter((reading) => DEVICES.includes(reading.device_id)).every((reading) => reading.value === 90), 'the new readings');
        await sleep(100);
        expect(await events()).toHaveLength(DEVICES.length);

        // Back to normal on a device B owns: resolved once, by B.
        const movedDevice = rules.find((rule) => inB.includes(`rule:${rule.id}`))!.device_id;
        await publishAll(10, [movedDevice]);
        await until(async () => (await events()).filter((event) => event.is_resolved).length === 1, 'the resolution');

        // B leaves: its partitions come back to A, which carries the firing alerts on.
        await b.stop();
        running.splice(running.indexOf(b), 1);
        await until(() => ruleIds(a).length === DEVICES.length, 'A to own every rule again');
        for (const rule of rules) expect(stateOf(a, rule.id)).toBe(rule.device_id === movedDevice ? 'ok' : 'firing');
        await publishAll(95, DEVICES.filter((device) => device !== movedDevice));
        await until(async () => (await a.store.readings.latestAll()).filter((reading) => DEVICES.includes(reading.device_id)).every((reading) => reading.value === 95 || reading.device_id === movedDevice), 'the last readings');
        await sleep(100);
      } finally {
        clearInterval(sampler);
      }

      const all = await events();
      expect(all).toHaveLength(DEVICES.length);
      expect(new Set(all.map((event) => event.alert_id)).size).toBe(DEVICES.length);
      expect(all.filter((event) => !event.is_resolved)).toHaveLength(DEVICES.length - 1);
      expect(overlaps).toEqual([]);
    });

    it('brings a rule created, updated or deleted on one instance to the instance owning its device at once (no interval cycle runs)', async () => {
      const { a, b, rules } = await twoInstances();
      await a.start({ listen: false });
      await b.start({ listen: false });
      await rulesSplit(a, b);
      const device = rules.find((rule) => ruleIds(b).includes(`rule:${rule.id}`))!.device_id;
      const request = (method: string, path: string, body?: unknown) =>
        a.app.request(path, { method, headers: { 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });

      const created = await request('POST', '/rules', { id: `humid-${device}`, name: 'humid', device_id: device, metric: 'humidity', operator: '>', threshold: 90 });
      expect(created.status).toBe(201);
      await until(() => ruleIds(b).includes(`rule:humid-${device}`), 'the owner to start the new rule');
      expect(ruleIds(a)).not.toContain(`rule:humid-${device}`);

      expect((await request('PATCH', `/rules/humid-${device}`, { threshold: 95 })).status).toBe(200);
      await until(() => (b.actors.get(`rule:humid-${device}`)?.actor.getSnapshot().context as { rule?: { threshold?: number } } | undefined)?.rule?.threshold === 95, 'the owner to update the rule');

      expect((await request('PATCH', `/rules/humid-${device}`, { enabled: false })).status).toBe(200);
      await until(() => !ruleIds(b).includes(`rule:humid-${device}`), 'the owner to stop the disabled rule');
      expect((await request('PATCH', `/rules/humid-${device}`, { enabled: true })).status).toBe(200);
      await until(() => ruleIds(b).includes(`rule:humid-${device}`), 'the owner to start the enabled rule again');

      expect((await request('DELETE', `/rules/humid-${device}`)).status).toBe(204);
      await until(() => !ruleIds(b).includes(`rule:humid-${device}`), 'the owner to retire the deleted rule');
      expect(ruleIds(a)).not.toContain(`rule:humid-${device}`);
    });

    it('evaluates readings POSTed to an instance that does not own their device on the owner, in reactive mode', async () => {
      const { a, b, rules } = await twoInstances();
      await a.start({ listen: false });
      await b.start({ listen: false });
      await rulesSplit(a, b);
      const ofB = rules.find((rule) => ruleIds(b).includes(`rule:${rule.id}`))!;

      // To A, which does not run the rule: one valid reading and one without a value.
      const response = await a.app.request('/readings', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([{ device_id: ofB.device_id, metric: 'temp', value: 80 }, { device_id: ofB.device_id, metric: 'temp' }]),
      });
      expect(response.status).toBe(422);
      expect(await response.json()).toMatchObject({ accepted: 1, issues: [{ path: '1.value' }] });

      await until(async () => (await a.store.alerts.list({ alert_id: ofB.id })).length === 1, 'the owner to fire the rule');
      expect(stateOf(b, ofB.id)).toBe('firing');
      expect(a.actors.get(`rule:${ofB.id}`)).toBeUndefined();
      // On PostgreSQL the owner commits the events, then the readings (two transactions; see store commit).
      await until(async () => (await a.store.readings.latestAll()).find((reading) => reading.device_id === ofB.device_id)?.value === 80, 'the reading to be stored');
    });
  });
}
