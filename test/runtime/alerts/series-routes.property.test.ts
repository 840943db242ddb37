import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSeriesRoutes, seriesKey, type RuleEntry } from '../../../src/runtime/alerts/series-routes.ts';
import { rule } from '../../actors/alert.fixtures.ts';

/** An entry whose actor is never touched by the routes: only its rule's series matters. */
const entryOf = (id: string, device: string, metric: string): RuleEntry => ({ rule: rule({ id, device_id: device, metric }), actor: undefined as never, created: false, peek: undefined as never, held: undefined, current: undefined, advance: undefined as never, value: null, lastReadingAt: null, route: undefined });

const step = fc.oneof(
  fc.record({ op: fc.constant('attach' as const), device: fc.constantFrom('d1', 'd2', 'd3'), metric: fc.constantFrom('cpu', 'mem'), seen: fc.option(fc.constantFrom('2026-01-01T00:00:01Z', '2026-01-01T00:00:02Z')) }),
  fc.record({ op: fc.constant('detach' as const), pick: fc.nat() }),
);

describe('series routes', () => {
  it('route each series to exactly the attached entries, keep the newest seen ts, and list series in first-watched order; each entry knows its route, whose quiet check any attach or detach clears', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const routes = createSeriesRoutes();
        // The model: per series key, its entries in attach order and its newest seen ts; keys in first-watched order.
        const model = new Map<string, { entries: RuleEntry[]; ts: string | null }>();
        const attached: RuleEntry[] = [];
        const detached: RuleEntry[] = [];
        steps.forEach((s, n) => {
          // As if each route's one rule had been seen quiet: any attach or detach on its series must clear that.
          for (const route of routes.all()) route.quiet = true;
          if (s.op === 'attach') {
            const entry = entryOf(`r${n}`, s.device, s.metric);
            routes.attach(entry, s.seen);
            expect(entry.route?.quiet).toBe(false);
            attached.push(entry);
            const key = seriesKey(s.device, s.metric);
            const series = model.get(key);
            if (!series) model.set(key, { entries: [entry], ts: s.seen });
            else {
              series.entries.push(entry);
              if (s.seen !== null && (series.ts === null || s.seen > series.ts)) series.ts = s.seen;
            }
            return;
          }
          if (attached.length === 0) return;
          const [entry] = attached.splice(s.pick % attached.length, 1);
          const route = entry!.route!;
          routes.detach(entry!);
          expect(route.quiet).toBe(false);
          detached.push(entry!);
          const key = seriesKey(entry!.rule.device_id, entry!.rule.metric);
          const series = model.get(key)!;
          series.entries = series.entries.filter((e) => e !== entry);
          if (series.entries.length === 0) model.delete(key);
        });
        for (const device of ['d1', 'd2', 'd3']) {
          for (const metric of ['cpu', 'mem']) {
            const found = routes.find(device, metric);
            const expected = model.get(seriesKey(device, metric));
            expect(found && { entries: found.entries, ts: found.ts }).toEqual(expected);
          }
        }
        expect([...routes.all()].map((route) => route.key)).toEqual([...model.keys()]);
        for (const entry of attached) expect(entry.route).toBe(routes.find(entry.rule.device_id, entry.rule.metric));
        for (const entry of detached) expect(entry.route).toBeUndefined();
      }),
    );
  });
});
