import { Registry } from 'prom-client';
import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { alertMachine } from '../../src/actors/alert.ts';
import type { Rule } from '../../src/domain/rule.ts';
import { registerRuntimeMetrics } from '../../src/runtime/metrics.ts';
import { ActorRegistry } from '../../src/runtime/registry.ts';
import type { RuntimeContext } from '../../src/runtime/context.ts';
import { parseExposition } from '../http/exposition.ts';

const rule = (id: string, over: Partial<Rule> = {}): Rule => ({
  id,
  name: id,
  device_id: 'd1',
  metric: 'temp',
  operator: '>',
  threshold: 50,
  for_seconds: 0,
  clear_threshold: null,
  keep_firing_for_seconds: 0,
  nodata_seconds: null,
  severity: 'warning',
  channels: ['console'],
  enabled: true,
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:00.000Z',
  ...over,
});

function setup() {
  const registry = new ActorRegistry();
  const metrics = new Registry();
  registerRuntimeMetrics({ registry, metrics } as unknown as RuntimeContext);
  const add = (r: Rule) => {
    const actor = createActor(alertMachine, { input: { rule: r, now: Date.now() } });
    registry.add({ id: `rule:${r.id}`, kind: 'rule', actor, machine: alertMachine });
    actor.start();
    return actor;
  };
  const scrape = async () => parseExposition(await metrics.metrics());
  return { add, scrape };
}

describe('runtime metrics', () => {
  it('vigil_alerts: one series per pending or firing rule, alertstate as Prometheus ALERTS has it', async () => {
    const { add, scrape } = setup();
    add(rule('now', { severity: 'critical' })).send({ type: 'EVALUATE', value: 70, at: Date.now(), now: Date.now(), ts: Date.now() });
    add(rule('later', { for_seconds: 600, device_id: 'd2' })).send({ type: 'EVALUATE', value: 70, at: Date.now(), now: Date.now(), ts: Date.now() });
    add(rule('quiet')).send({ type: 'EVALUATE', value: 10, at: Date.now(), now: Date.now(), ts: Date.now() });
    const samples = (await scrape()).get('vigil_alerts')!.samples;
    expect(samples).toHaveLength(2);
    expect(samples).toContainEqual({ name: 'vigil_alerts', labels: { rule_id: 'now', device_id: 'd1', metric: 'temp', severity: 'critical', alertstate: 'firing' }, value: 1 });
    expect(samples).toContainEqual({ name: 'vigil_alerts', labels: { rule_id: 'later', device_id: 'd2', metric: 'temp', severity: 'warning', alertstate: 'pending' }, value: 1 });
  });

  it('vigil_actors: the actor status is a label of its own, the state keeps the state value', async () => {
    const { add, scrape } = setup();
    const failing = add(rule('broken'));
    add(rule('fine'));
    failing.send({ type: 'RULE_UPDATED', rule: null as unknown as Rule, now: Date.now() });
    const samples = (await scrape()).get('vigil_actors')!.samples;
    expect(samples).toContainEqual({ name: 'vigil_actors', labels: { kind: 'rule', state: 'ok', status: 'active' }, value: 1 });
    expect(samples).toContainEqual({ name: 'vigil_actors', labels: { kind: 'rule', state: 'ok', status: 'error' }, value: 1 });
  });

  it('has the process_* and nodejs_* defaults on its own registry', async () => {
    const families = await setup().scrape();
    expect(families.get('process_cpu_seconds_total')!.type).toBe('counter');
    expect(families.get('nodejs_version_info')!.samples[0]!.labels.version).toBe(process.version);
  });
});
