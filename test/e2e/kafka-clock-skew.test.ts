import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { skippedWithoutKafka } from '../support/kafka.ts';
import { clusterEnv, freshSchema, groupSettled, KAFKA_BROKERS, LOADED_WAIT_MS, partitionsOfReadings, pendingKeptAcross, pendingOnEveryPartition, POSTGRES_URL, startInstance, type Instance } from './kafka-cluster.ts';

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
      // Holds of 20 s: from the moment the test takes its lock, A's renewals wait on it too, so B must
      // be assigned its partitions within a lease of the lock, however slow the machine.
      const env = clusterEnv(databaseUrl, `vigil-e2e-skew-${run}`, { KAFKA_SESSION_TIMEOUT_MS: '20000' });
      const started: Instance[] = [await startInstance('a', env)];
      const [a] = started as [Instance];
      const locker = new pg.Client({ connectionString: POSTGRES_URL });
      await locker.connect();
      let locked = false;
      try {
        const partitions = await partitionsOfReadings();
        await groupSettled(started, env.KAFKA_GROUP_ID!, partitions);
        const { activeAt } = await pendingOnEveryPartition(a, partitions, `skew-${run}`);

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
        expect((await pendingKeptAcross(started, activeAt, 'b')).length).toBeGreaterThan(0);
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
