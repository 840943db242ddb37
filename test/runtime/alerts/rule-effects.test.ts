import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { createWriteSink, provideRuleEffects } from '../../../src/runtime/alerts/rule-effects.ts';
import type { AlertWrite } from '../../../src/runtime/alerts/alert-writer.ts';
import { rule } from '../../actors/alert.fixtures.ts';

const T0 = 1_000_000;

describe('rule effects', () => {
  it('writes each fire and resolve to the sink and counts every change of state by target, read at scrape time', async () => {
    const metrics = new Registry();
    const writes: AlertWrite[] = [];
    const machine = provideRuleEffects(metrics, createWriteSink(() => ({ push: (w: AlertWrite) => void writes.push(w) })));
    const metric = metrics.getSingleMetric('vigil_alert_transitions_total')!;
    expect((await metric.get()).values).toEqual([]);
    const actor = createActor(machine, { input: { rule: rule({ threshold: 80, for_seconds: 1 }), now: T0, timers: false } }).start();
    // pending, firing, ok (resolved), pending, ok
    for (const [i, value] of [90, 95, 50, 85, 10].entries()) actor.send({ type: 'EVALUATE', at: T0 + i * 1_000, now: T0 + i * 1_000, value, ts: T0 + i * 1_000 });
    expect(writes.map((w) => [w.kind, w.value, w.at])).toEqual([
      ['fire', 95, T0 + 1_000],
      ['resolve', 50, T0 + 2_000],
    ]);
    const counts = Object.fromEntries((await metric.get()).values.map((v) => [v.labels.to, v.value]));
    expect(counts).toEqual({ pending: 2, firing: 1, resolved: 1, ok: 1 });
    // A second scrape reads the same totals (they are not added twice).
    expect(Object.fromEntries((await metric.get()).values.map((v) => [v.labels.to, v.value]))).toEqual(counts);
    actor.stop();
  });
});
