import fc from 'fast-check';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RequestDurations } from '../../src/http/request-durations.ts';
import { parseExposition } from './exposition.ts';

const observation = fc.record({
  method: fc.constantFrom('GET', 'POST'),
  route: fc.constantFrom('/actors/:id', '/rules', 'unmatched'),
  status: fc.constantFrom(200, 404, 429),
  seconds: fc.oneof(fc.double({ min: 0, max: 10, noNaN: true }), fc.constantFrom(0.0005, 0.001, 5, 0)),
});

describe('RequestDurations', () => {
  it('exposes, per series, cumulative buckets that count the observations at or under each bound, and their sum and count', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(observation, { maxLength: 60 }), async (observations) => {
        const registry = new Registry();
        const durations = new RequestDurations(registry);
        for (const o of observations) durations.observe(o.method, o.route, o.status, o.seconds);
        const family = parseExposition(await registry.metrics()).get('vigil_http_request_duration_seconds');
        const samples = family?.samples ?? [];
        const series = new Map<string, typeof observations>();
        for (const o of observations) series.set(`${o.method} ${o.route} ${o.status}`, [...(series.get(`${o.method} ${o.route} ${o.status}`) ?? []), o]);
        expect(samples.filter((s) => s.name.endsWith('_count')).length).toBe(series.size);
        for (const sample of samples) {
          const { method, route, status, le } = sample.labels;
          const mine = series.get(`${method} ${route} ${status}`)!;
          if (sample.name.endsWith('_count')) expect(sample.value).toBe(mine.length);
          else if (sample.name.endsWith('_sum')) expect(sample.value).toBeCloseTo(mine.reduce((total, o) => total + o.seconds, 0), 9);
          else expect(sample.value).toBe(mine.filter((o) => le === '+Inf' || o.seconds <= Number(le)).length);
        }
      }),
    );
  });

  it('starts over on reset', async () => {
    const registry = new Registry();
    const durations = new RequestDurations(registry);
    durations.observe('GET', '/x', 200, 0.01);
    registry.resetMetrics();
    expect(parseExposition(await registry.metrics()).get('vigil_http_request_duration_seconds')?.samples ?? []).toEqual([]);
  });
});
