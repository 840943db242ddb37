import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { skippedWithoutKafka } from '../support/kafka.ts';
import { eventually, send } from './cli.ts';
import {
  clusterEnv,
  devicesCovering,
  exactlyOneActorEach,
  freshSchema,
  groupSettled,
  KAFKA_BROKERS,
  LOADED_WAIT_MS,
  partitionsOfReadings,
  POSTGRES_URL,
  startInstance,
  type Instance,
} from './kafka-cluster.ts';

// Two `vigil run` processes on Kafka and PostgreSQL, the second one's clock a minute ahead of the
// first's (a preload moves its Date: the one fault here no real peer on one machine can produce).
// A rebalance while the first cannot save (its writes to actor_snapshots blocked by a table lock the
// test holds; reads go on): the second must wait for the hand-over, though by its own clock the
// first's holds ended long ago. They are judged on the database's clock.

const CLOCK_AHEAD = fileURLToPath(new URL('../support/clock-ahead.mjs', import.meta.url));

if (!KAFKA_BROKERS) {
  skippedWithoutKafka('Kafka handover between instances whose clocks disagree', 'waits for the previous owner');
} else {
  describe('Kafka handover between instances whose clocks disagree (real processes, PostgreSQL)', () => {
    it('an instance whose clock runs a minute ahead still waits for the previous owner to save, and pending rules keep their progress', async () => {
      const { schema, databaseUrl, drop } = await freshSchema();
      const run = randomUUID().slice(0, 8);
      const env = clusterEnv(databaseUrl, `vigil-e2e-skew-${run}`);
      const started: Instance[] = [await startInstance('a', env)];
      const [a] = started as [Instance];
      const locker = new pg.Client({ connectionString: POSTGRES_URL });
      await locker.connect();
      let locked = false;
      try {
        const partitions = await partitionsOfReadings();
        await groupSettled(started, env.KAFKA_GROUP_ID!, partitions);
        // A rule on every partition, each pending for an hour after one breaching reading.
        const devices = devicesCovering(partitions, partitions, `skew-${run}`);
        const ids = devices.map((device) => `slow-${device}`);
        for (const [i, device] of devices.entries()) {
          const rule = { id: ids[i], name: 'slow', device_id: device, metric: 'temp', operator: '>', threshold: 50, for_seconds: 3_600 };
          expect((await send(a.url, 'POST', '/rules', rule)).status).toBe(201);
        }
        await exactlyOneActorEach(started, ids, LOADED_WAIT_MS);
        for (const device of devices) expect((await send(a.url, 'POST', '/readings', [{ device_id: device, metric: 'temp', value: 60 }])).status).toBe(202);
        const contextOn = async (instance: Instance, id: string) => (await send(instance.url, 'GET', `/actors/rule:${id}`)).body as { value?: unknown; context?: { activeAt?: number } };
        const before = new Map<string, number>();
        for (const id of ids) before.set(id, await eventually(async () => {
          const { value, context } = await contextOn(a, id);
          return value === 'pending' ? context?.activeAt : undefined;
        }, 30_000));

        // Writes to actor_snapshots wait from here (EXCLUSIVE lets reads through): A cannot save the
        // states of the rules it hands over, nor mark its holds released, until the lock goes.
        await locker.query('BEGIN');
        await locker.query(`LOCK TABLE ${schema}.actor_snapshots IN EXCLUSIVE MODE`);
        locked = true;
        started.push(await startInstance('b', { ...env, NODE_OPTIONS: `--import=${CLOCK_AHEAD}`, VIGIL_TEST_CLOCK_AHEAD_MS: '60000' }));
        const b = started[1]!;
        // By B's clock A's holds ended a minute ago; by the database's they stand, so B waits.
        const waited = await b.vigil.waitForLog((line) => line.msg === 'waiting for the previous owner to hand over its rules', LOADED_WAIT_MS).then(
          () => true,
          () => false,
        );
        expect(waited, 'B waits for A to hand over the partitions it takes').toBe(true);
        await new Promise((resolve) => setTimeout(resolve, 500));
        await locker.query('COMMIT');
        locked = false;

        await groupSettled(started, env.KAFKA_GROUP_ID!, partitions);
        const owners = await exactlyOneActorEach(started, ids, LOADED_WAIT_MS);
        const moved = ids.filter((id) => owners.get(id) === 'b');
        expect(moved.length).toBeGreaterThan(0);
        for (const id of ids) {
          const owner = started.find((instance) => instance.name === owners.get(id))!;
          expect(await contextOn(owner, id)).toMatchObject({ value: 'pending', context: { activeAt: before.get(id) } });
        }
        expect(b.vigil.output()).toContain('previous owner handed over');
        expect(b.vigil.output()).not.toContain('previous owner still holds partitions; adopting them');
      } finally {
        if (locked) await locker.query('COMMIT').catch(() => undefined);
        await locker.end();
        for (const instance of started) await instance.vigil.stop();
        await drop();
      }
    }, 240_000);
  });
}
