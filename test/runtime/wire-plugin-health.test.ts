import type Database from 'better-sqlite3';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import type { RuntimeContext } from '../../src/runtime/context.ts';
import { createLogger } from '../../src/runtime/logger.ts';
import { ActorRegistry } from '../../src/runtime/registry.ts';
import { createRunReporter } from '../../src/runtime/run-reporter.ts';
import { pluginHealthConcern } from '../../src/runtime/wire-plugin-health.ts';
import { createSqliteStore } from '../../src/storage/sqlite/index.ts';
import type { Store } from '../../src/storage/store.ts';
import { releaseAfter, storeWithRival } from '../support/held-lock.ts';
import type { Broker } from '../../src/streams/broker.ts';

let store: Store;
beforeEach(async () => {
  store = createSqliteStore({ path: ':memory:' });
  await store.migrate();
});
afterEach(() => store.close());

function context(env: Record<string, string> = {}): RuntimeContext {
  return {
    config: loadConfig({ env: { LOG_LEVEL: 'silent', ...env } }),
    logger: createLogger('silent'),
    store,
    broker: {} as Broker,
    registry: new ActorRegistry(),
    metrics: new Registry(),
    runs: createRunReporter(),
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 10));
/** Runs are delivered to plugin health in a microtask. */
const delivered = () => new Promise<void>((resolve) => queueMicrotask(resolve));

describe('plugin health concern', () => {
  it('creates one root actor per plugin on its first run, persists every run and restores at start', async () => {
    const ctx = context();
    const concern = pluginHealthConcern(ctx);
    await concern.start();
    ctx.runs.report('collector', { ok: true });
    ctx.runs.report('collector', { ok: false, error: 'timeout' });
    ctx.runs.report('consumer', { ok: true });
    await delivered();
    expect([...ctx.registry.entries('plugin')].map((e) => e.id)).toEqual(['plugin:collector', 'plugin:consumer']);
    await concern.stop();
    expect(ctx.registry.size).toBe(0);
    expect(await store.plugins.list()).toMatchObject([
      { name: 'collector', status: 'degraded', total_runs: 2, total_failures: 1, success_rate: 0.5, consecutive_failures: 1, last_error: 'timeout' },
      { name: 'consumer', status: 'healthy', total_runs: 1 },
    ]);

    const again = context();
    const restored = pluginHealthConcern(again);
    await restored.start();
    expect(again.registry.get('plugin:collector')!.actor.getSnapshot()).toMatchObject({ value: 'degraded', context: { total_runs: 2 } });
    again.runs.report('collector', { ok: true });
    await delivered();
    expect(again.registry.get('plugin:collector')!.actor.getSnapshot().context).toMatchObject({ total_runs: 3, consecutive_failures: 0, status: 'healthy' });
    await restored.stop();
  });

  it('becoming unhealthy enqueues a collection failure routed by severity; 5+ asks for intervention; recovery resolves', async () => {
    const ctx = context({ ENABLE_SLACK_ALERTS: 'true', SLACK_WEBHOOK_URL: 'http://127.0.0.1:9/hook' });
    const concern = pluginHealthConcern(ctx);
    await concern.start();
    for (let i = 0; i < 5; i++) ctx.runs.report('collector', { ok: false, error: 'device unreachable' });
    ctx.runs.report('collector', { ok: true });
    await settle();
    await concern.stop();
    const rows = (await store.notifications.list({})).reverse();
    expect(rows.map((n) => [n.severity, n.channel, n.title])).toEqual([
      ['error', 'console', 'Plugin collector is failing'],
      ['error', 'slack', 'Plugin collector is failing'],
      ['critical', 'console', 'Plugin collector is failing'],
      ['critical', 'slack', 'Plugin collector is failing'],
      ['info', 'console', 'Plugin collector recovered'],
    ]);
    expect(rows[0]!.message).toContain('failed 3 times in a row; last error: device unreachable');
    expect(rows[2]!.message).toContain('Manual intervention is required');
    expect(rows[2]!.metadata).toMatchObject({ plugin: 'collector', consecutive_failures: 5, manual_intervention: true });
  });

  it("a channel's own failure alert is not routed to that channel", async () => {
    const ctx = context({ ENABLE_SLACK_ALERTS: 'true', SLACK_WEBHOOK_URL: 'http://127.0.0.1:9/hook' });
    const concern = pluginHealthConcern(ctx);
    await concern.start();
    for (let i = 0; i < 3; i++) ctx.runs.report('channel:slack', { ok: false, error: '503' });
    await settle();
    await concern.stop();
    expect((await store.notifications.list({})).map((n) => n.channel)).toEqual(['console']);
  });
});

/** Another connection holds the file's write lock (see `storeWithRival`). */
describe('plugin health, while another process holds the store', () => {
  let file: Store;
  let other: Database.Database;
  let close: () => Promise<void>;
  beforeEach(async () => {
    ({ store: file, other, close } = await storeWithRival('vigil-plugin-lock-'));
  });
  afterEach(() => close());

  it('enqueues the failure alert and stores the latest health once the lock is gone, instead of dropping them', async () => {
    const ctx = { ...context(), store: file };
    const concern = pluginHealthConcern(ctx);
    await concern.start();
    other.exec('BEGIN IMMEDIATE');
    for (let i = 0; i < 3; i++) ctx.runs.report('collector', { ok: false, error: 'device unreachable' });
    await delivered();
    releaseAfter(other, 400);
    await vi.waitFor(async () => expect(await file.notifications.list({})).toMatchObject([{ title: 'Plugin collector is failing' }]), { timeout: 10_000 });
    await vi.waitFor(async () => expect(await file.plugins.list()).toMatchObject([{ name: 'collector', status: 'unhealthy', total_runs: 3 }]), { timeout: 10_000 });
    await concern.stop();
  });

  it('a stop ends the waiting: the stop does not hang, and what could not be stored is not written by it', async () => {
    const ctx = { ...context(), store: file };
    const concern = pluginHealthConcern(ctx);
    await concern.start();
    other.exec('BEGIN IMMEDIATE');
    ctx.runs.report('collector', { ok: false, error: 'device unreachable' });
    await delivered();
    await concern.stop();
    other.exec('COMMIT');
    expect(await file.plugins.list()).toEqual([]);
  });
});
