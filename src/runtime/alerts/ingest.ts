import { Counter, type Registry } from 'prom-client';
import type { AlertWorkerEvent } from '../../actors/alert-worker.ts';
import { checkReadings } from '../../domain/extract-value.ts';
import type { Reading } from '../../domain/reading.ts';
import type { Issue } from '../../errors.ts';
import type { AlertWrite, AlertWriter } from './alert-writer.ts';
import { forwardReadings } from './forward-readings.ts';
import type { RuleActors } from './rule-actors.ts';
import type { Failures } from './rule-delivery.ts';
import type { WriteSink } from './rule-effects.ts';

/** What one `ingest` call did: readings accepted and evaluated, stale ones (older than one already routed), rejections. */
export interface IngestResult {
  accepted: number;
  stale: number;
  rejected: { index: number; issue: Issue }[];
  /**
   * Resolves once the accepted readings are stored with the alert events and outbox rows they caused;
   * rejects (retriable StoreError) when the store could not take them now: resend them.
   */
  stored: Promise<void>;
}

/** Options of `createIngest`. */
export interface IngestOptions {
  metrics: Registry;
  actors: RuleActors;
  sink: WriteSink;
  writer: AlertWriter;
  /** Interval mode routes nothing: rules see readings at the worker's evaluations only. */
  mode: 'both' | 'reactive' | 'interval';
  now: () => number;
  /** Counts rule failures into the worker's statistics. */
  report: (event: Extract<AlertWorkerEvent, { type: 'EVALUATED' }>) => void;
  /** Publishes a reading to its owner (rules owned by partition); see `accept`. */
  forward?: (reading: Reading) => Promise<unknown>;
  dryRun?: boolean;
}

/** The readings path of the engine: `ingest` (evaluate here, commit with the writes caused) and `accept` (HTTP). */
export function createIngest(options: IngestOptions) {
  const { actors, sink, writer, mode, now } = options;
  const readingsTotal = new Counter({ name: 'vigil_readings_total', help: 'Readings received, by outcome', labelNames: ['outcome'], registers: [options.metrics] });

  /**
   * Readings: checked, routed to their rules at once (reactive mode), then committed with the alert
   * writes they caused, in arrival order (`stored`): an acknowledgement waits for it. `stored` rejects
   * at the first failure (HTTP answers 503 at once), or, with `waitOutRetries`, only when the store
   * refused the readings for good (a broker batch is acknowledged once they are stored).
   */
  function ingest(raws: unknown[], { waitOutRetries = false }: { waitOutRetries?: boolean } = {}): IngestResult {
    const at = now();
    const { readings, times, rejected } = checkReadings(raws, new Date(at).toISOString());
    const result: IngestResult = { accepted: 0, stale: 0, rejected, stored: Promise.resolve() };
    const writes: AlertWrite[] = [];
    const { errors, lastError } = sink.collect(writes, () => route(readings, times, at, result));
    readingsTotal.inc({ outcome: 'accepted' }, result.accepted - result.stale);
    if (result.stale > 0) readingsTotal.inc({ outcome: 'stale' }, result.stale);
    if (result.rejected.length > 0) readingsTotal.inc({ outcome: 'rejected' }, result.rejected.length);
    if (errors > 0) options.report({ type: 'EVALUATED', evaluations: 0, errors, lastError });
    result.stored = options.dryRun ? Promise.resolve() : writer.commit(writes, readings, { waitOutRetries });
    return result;
  }

  /** Sends each reading (`times`: their `ts` in epoch ms) to the rules of its series (a stale one to none); counts into `result`. */
  function route(readings: Reading[], times: number[], at: number, result: IngestResult): Failures {
    const failures: Failures = { errors: 0, lastError: null };
    result.accepted += readings.length;
    if (mode === 'interval') return failures;
    for (let i = 0; i < readings.length; i++) {
      const reading = readings[i]!;
      const route = actors.route(reading.device_id, reading.metric);
      if (!route) continue;
      if (route.ts !== null && reading.ts < route.ts) {
        result.stale++;
        continue;
      }
      route.ts = reading.ts;
      // Each reading is an evaluation at its own `ts`.
      actors.deliverToSeries(route, { type: 'EVALUATE', at: times[i]!, now: at, value: reading.value, ts: times[i]! }, failures);
    }
    return failures;
  }

  /**
   * Readings from HTTP. When rules are owned by partition (on Kafka), the instance that took the
   * request may not run their rules, and in reactive mode nothing else would evaluate them: they
   * go to the readings topic instead, for the owners (see `forwardReadings`). Otherwise `ingest`.
   */
  async function accept(raws: unknown[]): Promise<IngestResult> {
    if (!options.forward) return ingest(raws);
    const result = await forwardReadings(raws, { publish: options.forward, now: now() });
    if (result.rejected.length > 0) readingsTotal.inc({ outcome: 'rejected' }, result.rejected.length);
    return result;
  }

  return { ingest, accept };
}
