import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { skippedWithoutKafka } from '../support/kafka.ts';
import { eventually, send } from './cli.ts';
import { clusterEnv, groupSettled, KAFKA_BROKERS, partitionsOfReadings, pendingKeptAcross, pendingOnEveryPartition, ruleActors, startInstance, type Instance } from './kafka-cluster.ts';

// `vigil run` on Kafka with its SQLite file locked by another process (a `vigil rules apply`, say)
// while broker batches arrive: readings and notifications wait the lock out and are stored; none is
// dead-lettered. Before, both batches went to `<topic>.dlq` and were acknowledged at once.

if (!KAFKA_BROKERS) {
  skippedWithoutKafka('Kafka batches under a held SQLite lock', 'are stored once the lock goes');
} else {
  describe('Kafka batches meeting a SQLite file held by another process (real process)', () => {
    it('readings and a notification are stored once the lock goes, and nothing is dead-lettered', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-kafka-lock-'));
      const path = join(dir, 'vigil.db');
      const instance = await startInstance('a', clusterEnv(`sqlite:${path}`, `vigil-e2e-lock-${randomUUID()}`));
      const producer = new Kafka({ clientId: 'vigil-e2e-lock', brokers: KAFKA_BROKERS!.split(','), logLevel: logLevel.NOTHING }).producer();
      const other = new Database(path);
      try {
        await producer.connect();
        const device = `lock-${randomUUID()}`;
        const title = `disk full ${randomUUID()}`;
        const rule = { id: `hot-${device}`, name: 'hot', device_id: device, metric: 'temp', operator: '>', threshold: 50 };
        expect((await send(instance.url, 'POST', '/rules', rule)).status).toBe(201);
        await eventually(async () => ((await ruleActors(instance))?.has(rule.id) ? true : undefined), 30_000);

        other.exec('BEGIN IMMEDIATE');
        expect((await send(instance.url, 'POST', '/readings', [{ device_id: device, metric: 'temp', value: 60 }])).status).toBe(202);
        await producer.send({ topic: 'notifications', messages: [{ key: device, value: JSON.stringify({ channel: 'console', severity: 'critical', title, message: 'sda1 at 99 %' }) }] });
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        other.exec('COMMIT');

        const events = await eventually(async () => {
          const { body } = await send(instance.url, 'GET', `/alerts/events?alert_id=${rule.id}`);
          const list = (body as { events?: Array<{ current_value: number }> }).events ?? [];
          return list.length > 0 ? list : undefined;
        }, 30_000);
        expect(events.map((e) => e.current_value)).toEqual([60]);
        const sent = await eventually(async () => {
          const { body } = await send(instance.url, 'GET', '/notifications?status=sent&limit=1000');
          return ((body as { notifications?: Array<{ title: string }> }).notifications ?? []).find((n) => n.title === title);
        }, 30_000);
        expect(sent).toBeDefined();
        expect(instance.vigil.output()).not.toMatch(/dead-lettered/);
      } finally {
        if (other.inTransaction) other.exec('COMMIT');
        other.close();
        await producer.disconnect();
        await instance.vigil.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    }, 120_000);

    it('a rebalance while the file is held: the new owners wait for the previous one to save, and pending rules keep their progress', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-kafka-fence-'));
      const path = join(dir, 'vigil.db');
      const run = randomUUID().slice(0, 8);
      const env = clusterEnv(`sqlite:${path}`, `vigil-e2e-fence-${run}`);
      const started: Instance[] = [await startInstance('a', env)];
      const [a] = started as [Instance];
      const other = new Database(path);
      try {
        const partitions = await partitionsOfReadings();
        await groupSettled(started, env.KAFKA_GROUP_ID!, partitions);
        const { activeAt } = await pendingOnEveryPartition(a, partitions, `fence-${run}`);

        // B joins while another process holds the file: A cannot save the states of the rules it
        // hands over until the lock goes, and B must not load them before.
        other.exec('BEGIN IMMEDIATE');
        started.push(await startInstance('b', env));
        await a.vigil.waitForLog((line) => line.msg === 'handed-over rule states not saved; retrying', 60_000);
        await new Promise((resolve) => setTimeout(resolve, 500));
        other.exec('COMMIT');
        await groupSettled(started, env.KAFKA_GROUP_ID!, partitions);
        expect((await pendingKeptAcross(started, activeAt, 'b')).length).toBeGreaterThan(0);
        expect(started[1]!.vigil.output()).toContain('waiting for the previous owner to hand over its rules');
      } finally {
        if (other.inTransaction) other.exec('COMMIT');
        other.close();
        for (const instance of started) await instance.vigil.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    }, 240_000);
  });
}
