import { Counter } from 'prom-client';
import { concatMap, from, type Subscription } from 'rxjs';
import { createActor, fromPromise, waitFor, type Actor } from 'xstate';
import { alertMachine, type PersistedAlert } from '../../actors/alert.ts';
import { alertWorkerMachine, type AlertWorkerContext, type CycleOutcome } from '../../actors/alert-worker.ts';
import { configuredChannels } from '../../channels/open-channels.ts';
import { checkReadings } from '../../domain/extract-value.ts';
import type { Reading } from '../../domain/reading.ts';
import type { Rule } from '../../domain/rule.ts';
import type { Issue } from '../../errors.ts';
import type { RuntimeContext } from '../context.ts';
import { deadlineIn, timeLeft } from '../shutdown-budget.ts';
import { createAlertWriter, type AlertWrite, type AlertWriter, type WriteOutcome } from './alert-writer.ts';
import { forwardReadings } from './forward-readings.ts';
import { ownsEveryRule, type RuleOwnership } from './ownership.ts';
import { createRuleActors, holdsAlert, seriesKey } from './rule-actors.ts';
import { createRuleAdoption } from './adoption.ts';
import { createRuleService } from './rule-service.ts';
import type { RuleChangeFeed } from './rule-changes.ts';
import { messageOf } from '../../errors.ts';

type Clock = Parameters<typeof createRuleActors>[0]['clock'];

/** Options of `createAlertEngine`. */
export interface AlertEngineOptions {
  ctx: Pick<RuntimeContext, 'config' | 'logger' | 'store' | 'registry' | 'metrics' | 'runs' | 'inspect'>;
  /** Default: the config's ALERT_MODE. */
  mode?: 'both' | 'reactive' | 'interval';
  /** Default: the config's ALERT_INTERVAL_SECONDS. */
  intervalMs?: number;
  /** The actors' clock (default `Date.now` and real timers). */
  now?: () => number;
  clock?: Clock;
  /** Record the writes instead of making them, and persist nothing (`vigil worker --dry-run`). */
  dryRun?: boolean;
  /** Which rules this instance runs (default: all); on Kafka, those of the devices in its partitions. */
  ownership?: RuleOwnership;
  /**
   * Publishes a reading to the readings topic, keyed by device. Given when rules are owned by
   * partition: readings from HTTP then go to their owners (see `accept`).
   */
  forward?: (reading: Reading) => Promise<unknown>;
  /** Rule changes shared between instances (on Kafka): published on every change, read to adopt others' changes at once. */
  ruleChanges?: RuleChangeFeed;
  /** Tells the notifier that outbox rows were committed (none: they wait for its next poll). */
  wake?: () => void;
}

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

/** The worker id, under which its statistics persist. */
export const ALERT_WORKER_ID = 'alert-worker';

/**
 * The alert engine: rule actors, the readings path, the ordered alert writes and the interval
 * worker, over one store. The runtime wires it (`wireAlerts`); `vigil worker` runs it alone.
 */
export function createAlertEngine(options: AlertEngineOptions) {
  const { ctx } = options;
  const { store, registry } = ctx;
  const logger = ctx.logger.child({ actor: ALERT_WORKER_ID });
  const mode = options.mode ?? ctx.config.alertMode;
  const now = options.now ?? Date.now;
  const readingsTotal = new Counter({ name: 'vigil_readings_total', help: 'Readings received, by outcome', labelNames: ['outcome'], registers: [ctx.metrics] });
  const transitionsTotal = new Counter({ name: 'vigil_alert_transitions_total', help: 'Rule state changes, by target', labelNames: ['to'], registers: [ctx.metrics] });
  const recorded: AlertWrite[] = [];
  let worker: Actor<typeof alertWorkerMachine> | undefined;
  const ownership = options.ownership ?? ownsEveryRule();
  let handovers: Subscription | undefined;

  const onWritten = (outcome: WriteOutcome) => {
    const fired = outcome.write.kind === 'fire';
    if (outcome.ok && outcome.changed) {
      logger.info({ rule: outcome.write.rule.id, event: outcome.eventId, value: outcome.write.value }, fired ? 'alert fired' : 'alert resolved');
      // The event's outbox rows are committed: deliver them now rather than at the notifier's next poll.
      options.wake?.();
    }
    const counts = outcome.ok
      ? { triggered: fired && outcome.changed ? 1 : 0, resolved: !fired && outcome.changed ? 1 : 0, errors: 0 }
      : { triggered: 0, resolved: 0, errors: 1, lastError: messageOf(outcome.error) };
    worker?.send({ type: 'WRITTEN', ...counts });
    if (!outcome.ok) ctx.runs.report(ALERT_WORKER_ID, { ok: false, error: counts.lastError });
  };
  const writer: AlertWriter = options.dryRun
    ? {
        push: (w) => void recorded.push(w),
        commit: async (writes) => void recorded.push(...writes),
        drain: async () => {},
        queued: 0,
      }
    : createAlertWriter({ store, logger, onWritten, channels: configuredChannels(ctx.config) });
  /** The writes the readings being ingested caused (set while `ingest` routes them): committed with them. */
  let caused: AlertWrite[] | undefined;
  const write = (w: AlertWrite) => (caused ? caused.push(w) : writer.push(w));

  const machine = alertMachine.provide({
    actions: {
      fireAlert: (_, intent) => {
        transitionsTotal.inc({ to: 'firing' });
        write({ kind: 'fire', ...intent });
      },
      resolveAlert: (_, intent) => {
        transitionsTotal.inc({ to: 'resolved' });
        write({ kind: 'resolve', ...intent });
      },
      reportTransition: (_, { to }) => transitionsTotal.inc({ to }),
    },
  });
  // Interval mode changes states only at the worker's evaluations: no deadline timers.
  const actors = createRuleActors({ registry, logger, machine, now, clock: options.clock, timers: mode !== 'interval', inspect: ctx.inspect });

  /** A rule that stops leaves no alert open: its firing alert is resolved with the last value it saw. */
  const retire = (last: PersistedAlert | undefined, rule: Rule) => {
    if (!last || !holdsAlert(last)) return;
    writer.push({ kind: 'resolve', rule, value: last.context.value ?? Number.NaN, at: now() });
  };
  const changes = options.ruleChanges;
  const rules = createRuleService({ store, actors, retire, owns: (rule) => ownership.owns(rule), learn: (some) => ownership.learn(some), changed: changes?.publish });
  const { startRules, handOver } = createRuleAdoption({ store, actors, ownership, writer, logger, now, dryRun: options.dryRun });

  /**
   * Readings: checked, routed to their rules at once (reactive mode), then committed with the alert
   * writes they caused, in arrival order (`stored`): an acknowledgement waits for it.
   */
  function ingest(raws: unknown[]): IngestResult {
    const at = now();
    const { readings, rejected } = checkReadings(raws, new Date(at).toISOString());
    const result: IngestResult = { accepted: 0, stale: 0, rejected, stored: Promise.resolve() };
    const writes: AlertWrite[] = [];
    caused = writes;
    let routed: ReturnType<typeof route>;
    try {
      routed = route(readings, at, result);
    } finally {
      caused = undefined;
    }
    const { errors, lastError } = routed;
    readingsTotal.inc({ outcome: 'accepted' }, result.accepted - result.stale);
    if (result.stale > 0) readingsTotal.inc({ outcome: 'stale' }, result.stale);
    if (result.rejected.length > 0) readingsTotal.inc({ outcome: 'rejected' }, result.rejected.length);
    if (errors > 0) worker?.send({ type: 'EVALUATED', evaluations: 0, errors, lastError });
    result.stored = options.dryRun ? Promise.resolve() : writer.commit(writes, readings);
    return result;
  }

  /** Sends each reading to the rules of its series (a stale one to none); counts into `result`. */
  function route(readings: Reading[], at: number, result: IngestResult): { errors: number; lastError: string | null } {
    let errors = 0;
    let lastError: string | null = null;
    for (const reading of readings) {
      const key = seriesKey(reading.device_id, reading.metric);
      result.accepted++;
      const route = mode === 'interval' ? undefined : actors.route(key);
      if (!route) continue;
      if (route.ts !== null && reading.ts < route.ts) {
        result.stale++;
        continue;
      }
      route.ts = reading.ts;
      // Each reading is an evaluation at its own `ts`.
      const ts = Date.parse(reading.ts);
      for (const entry of route.entries) {
        const error = actors.deliver(entry, { type: 'EVALUATE', at: ts, now: at, value: reading.value, ts });
        if (error !== null) {
          errors++;
          lastError = error;
        }
      }
    }
    return { errors, lastError };
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

  /** The rules (from memory unless they changed elsewhere), with the actors brought in line with them. */
  async function reconcile(): Promise<void> {
    const { rules: all } = await rules.cached();
    await ownership.learn(all);
    await rules.sync(all);
  }

  /** One interval cycle: reconcile the rules, then (interval modes) evaluate each against the latest stored reading. */
  async function cycle(): Promise<CycleOutcome> {
    const started = performance.now();
    await reconcile();
    const evaluated = mode === 'reactive' ? { evaluations: 0, errors: 0, lastError: null } : actors.evaluate(await store.readings.latestAll());
    return { rules: actors.size, ...evaluated, durationMs: performance.now() - started, at: now() };
  }

  function startWorker(restored: Partial<AlertWorkerContext> | undefined): void {
    const provided = alertWorkerMachine.provide({
      actors: { cycle: fromPromise<CycleOutcome, { n: number }>(() => cycle()) },
      actions: {
        reportCycle: (_, outcome) => {
          logger.debug({ rules: outcome.rules, evaluations: outcome.evaluations, ms: Math.round(outcome.durationMs) }, 'alert cycle done');
          ctx.runs.report(ALERT_WORKER_ID, outcome.errors > 0 ? { ok: false, error: outcome.lastError ?? 'rule errors' } : { ok: true });
        },
        reportCycleError: (_, { error }) => {
          logger.error({ err: error }, 'alert cycle failed');
          ctx.runs.report(ALERT_WORKER_ID, { ok: false, error: messageOf(error) });
        },
      },
    });
    const intervalMs = options.intervalMs ?? ctx.config.alertIntervalSeconds * 1_000;
    worker = createActor(provided, { id: ALERT_WORKER_ID, input: { intervalMs, startedAt: now(), restored }, inspect: ctx.inspect });
    registry.add({ id: ALERT_WORKER_ID, kind: 'alert-worker', actor: worker, machine: provided });
    worker.start();
    worker.send({ type: 'START' });
  }

  return {
    mode,
    actors,
    rules,
    ingest,
    accept,
    cycle,
    /** The writes recorded by a dry run, in order. */
    recorded,
    async start(): Promise<void> {
      await startRules();
      handovers = ownership.assignments
        ?.pipe(concatMap((partitions) => from(handOver(partitions).catch((error: unknown) => logger.error({ err: error, partitions }, 'rule handover failed')))))
        .subscribe();
      changes?.start({ refresh: (ruleId) => rules.refresh(ruleId), reconcile });
      if (options.dryRun) return;
      const persisted = (await store.snapshots.load(ALERT_WORKER_ID)) as { context?: Partial<AlertWorkerContext> } | undefined;
      startWorker(persisted?.context);
      logger.info({ rules: actors.size, mode }, 'alert engine started');
    },
    /**
     * Stops the worker, finishes the writes in flight, persists every rule's state in one call, stops
     * the actors; the waits end by `deadline` (epoch ms; default: a whole shutdown budget from now).
     */
    async stop(deadline: number = deadlineIn()): Promise<void> {
      handovers?.unsubscribe();
      changes?.stop();
      if (worker) {
        worker.send({ type: 'STOP' });
        try {
          await waitFor(worker, (snapshot) => snapshot.status !== 'active', { timeout: Math.max(1, timeLeft(deadline) / 2) });
        } catch {
          logger.warn('alert cycle did not finish in time; stopping anyway');
        }
      }
      if (!(await drainedWithin(writer, timeLeft(deadline) * (1 - SAVE_SHARE)))) {
        // The store is still refusing writes: they were never acknowledged, so stopping loses nothing promised.
        logger.warn({ queued: writer.queued }, 'alert writes not committed at stop');
      }
      if (!options.dryRun) {
        const entries: { actorId: string; snapshot: unknown }[] = actors.persisted();
        if (worker) entries.push({ actorId: ALERT_WORKER_ID, snapshot: worker.getPersistedSnapshot() });
        await store.snapshots.save(entries);
      }
      if (worker) {
        worker.stop();
        registry.remove(ALERT_WORKER_ID);
        worker = undefined;
      }
      actors.stopAll();
    },
    /** The worker's statistics with its uptime. */
    workerStats(): (AlertWorkerContext & { uptime_seconds: number }) | null {
      if (!worker) return null;
      const stats = worker.getSnapshot().context;
      return { ...stats, uptime_seconds: Math.round((now() - stats.startedAt) / 1_000) };
    },
    /** Waits for the readings and alert writes queued so far (tests, graceful stop). */
    settle: (): Promise<void> => writer.drain(),
  };
}

/** Time a stop keeps from draining the writes for saving the rules' states. */
const SAVE_SHARE = 0.25;

/** Whether the writer drained within `ms`. */
async function drainedWithin(writer: AlertWriter, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([writer.drain().then(() => true as const), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** The alert engine of one runtime. */
export type AlertEngine = ReturnType<typeof createAlertEngine>;
