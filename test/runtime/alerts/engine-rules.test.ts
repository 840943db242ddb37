import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.ts';
import type { RuleInput } from '../../../src/domain/rule.ts';
import { createAlertEngine } from '../../../src/runtime/alerts/engine.ts';
import { loggerOf } from '../../../src/runtime/logger.ts';
import { ActorRegistry } from '../../../src/runtime/registry.ts';
import { createRunReporter } from '../../../src/runtime/run-reporter.ts';
import { createSqliteStore } from '../../../src/storage/sqlite/index.ts';
import type { Store } from '../../../src/storage/store.ts';

const input = (id: string): RuleInput => ({
  id, name: id, device_id: 'd1', metric: id, operator: '>', threshold: 80, for_seconds: 0, clear_threshold: null,
  keep_firing_for_seconds: 0, nodata_seconds: null, severity: 'warning', channels: [], enabled: true,
});

let store: Store;
let lists: number;
beforeEach(async () => {
  store = createSqliteStore({ path: ':memory:' });
  await store.migrate();
  const list = store.rules.list.bind(store.rules);
  lists = 0;
  store.rules.list = () => (lists++, list());
});
afterEach(() => store.close());

/** An interval-mode engine over the store, as `vigil worker` builds one. */
function engine() {
  const config = loadConfig({ env: { LOG_LEVEL: 'silent' } });
  const ctx = { config, logger: loggerOf(config), store, registry: new ActorRegistry(), metrics: new Registry(), runs: createRunReporter() };
  return createAlertEngine({ ctx, mode: 'interval', dryRun: true });
}

describe('the alert engine’s rules in memory', () => {
  it('are the rules read at start: the first cycle reads no table, and a rule is one object for its actor and the cycle', async () => {
    for (const id of ['a', 'b']) await store.rules.create(input(id));
    const alerts = engine();
    await alerts.start();
    expect(lists).toBe(1);
    await alerts.cycle();
    expect(lists).toBe(1);
    const { rules } = await alerts.rules.cached();
    for (const rule of rules) expect(alerts.actors.get(rule.id)!.rule).toBe(rule);
    alerts.actors.stopAll();
  });
});
