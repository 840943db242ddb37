import type { Registry } from 'prom-client';

/** Buckets from 0.5 ms to 5 s: Vigil's routes answer from memory or one store query. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** One (method, route, status) series: counts per bucket (not yet cumulative; the last is +Inf), sum and count. */
interface Series {
  method: string;
  status: number;
  labels: { method: string; route: string; status: string };
  counts: Float64Array;
  sum: number;
  count: number;
}

/** A sample as prom-client's Registry formats it. */
interface Sample {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/**
 * `vigil_http_request_duration_seconds{method,route,status}`, registered in prom-client's Registry
 * as a metric of its own making. prom-client's Histogram validates and hashes the label values on
 * every `observe`, child or not: a tenth of the read route's throughput in bench/http.ts. Here a
 * series is found by route, then by a scan of that route's few (method, status) pairs, and an
 * observation is a bucket search and three additions; the registry asks for the cumulative buckets
 * when `/metrics` is scraped.
 *
 * `route` is the matched route pattern (`/actors/:id`), or `unmatched`, so the label set stays
 * bounded whatever paths clients send.
 */
export class RequestDurations {
  readonly name = 'vigil_http_request_duration_seconds';
  readonly help = 'HTTP request duration by method, matched route and status';
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  /** The series of each route: a handful each (methods × statuses), found by a scan without building a key. */
  readonly #routes = new Map<string, Series[]>();

  constructor(registry: Registry) {
    registry.registerMetric(this as never);
  }

  observe(method: string, route: string, status: number, seconds: number): void {
    let ofRoute = this.#routes.get(route);
    if (!ofRoute) {
      ofRoute = [];
      this.#routes.set(route, ofRoute);
    }
    let series = ofRoute.find((candidate) => candidate.status === status && candidate.method === method);
    if (!series) {
      series = { method, status, labels: { method, route, status: String(status) }, counts: new Float64Array(BUCKETS.length + 1), sum: 0, count: 0 };
      ofRoute.push(series);
    }
    let bucket = 0;
    while (bucket < BUCKETS.length && seconds > BUCKETS[bucket]!) bucket++;
    series.counts[bucket]! += 1;
    series.sum += seconds;
    series.count += 1;
  }

  /** The samples in prom-client's shape: cumulative `_bucket`s with `le`, then `_sum` and `_count`, per series. */
  get(): { name: string; help: string; type: string; aggregator: string; values: Sample[] } {
    const values: Sample[] = [];
    for (const { labels, counts, sum, count } of [...this.#routes.values()].flat()) {
      let cumulative = 0;
      for (let bucket = 0; bucket <= BUCKETS.length; bucket++) {
        cumulative += counts[bucket]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: BUCKETS[bucket] ?? '+Inf' }, value: cumulative });
      }
      values.push({ metricName: `${this.name}_sum`, labels, value: sum });
      values.push({ metricName: `${this.name}_count`, labels, value: count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.#routes.clear();
  }
}
