import { concatMap, from, type Subscription } from 'rxjs';
import type { AlertWorkerContext, CycleOutcome } from '../../actors/alert-worker.ts';
import type { Reading } from '../../domain/reading.ts';
import type { Rule } from '../../domain/rule.ts';
import type { PersistedAlert } from '../../actors/alert.ts';
import type { OutboxHandoff, RuntimeContext } from '../context.ts';
import { createRuleAdoption } from './adoption.ts';
import { createPartitionFence, FENCE_LEASE_MS } from './partition-fence.ts';
import type { AlertWriter } from './alert-writer.ts';
import { createEngineWrites, drainedWithin } from './engine-writes.ts';
import { deadlineIn, timeLeft } from '../shutdown-budget.ts';
import { createIngest } from './ingest.ts';
import { ALERT_WORKER_ID, createIntervalWorker, type IntervalWorker } from './interval-worker.ts';
import { ownsEveryRule, type RuleOwnership } from './ownership.ts';
import { createRuleActors, holdsAlert, type RuleActors } from './rule-actors.ts';
import type { RuleChangeFeed } from './rule-changes.ts';
import { createWriteSink, provideRuleEffects } from './rule-effects.ts';
import { createRuleService } from './rule-service.ts';
import type { Logger } from '../logger.ts';
import { retryStoreCallBy } from '../store-retry.ts';

export { ALERT_WORKER_ID } from './interval-worker.ts';
export type { IngestResult } from './ingest.ts';

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
  /** The in-process notifier, which delivers outbox rows written already claimed for it (none: every row waits for a claim). */
  handoff?: OutboxHandoff;
}

/**
 * The alert engine: rule actors, the readings path, the ordered alert writes and the interval
 * worker, over one store. The runtime wires it (`wireAlerts`); `vigil worker` runs it alone.
 * Each job lives in its own module; this one assembles them and starts and stops them in order.
 */
export function createAlertEngine(options: AlertEngineOptions) {
  const { ctx } = options;
  const logger = ctx.logger.child({ actor: ALERT_WORKER_ID });
  const mode = options.mode ?? ctx.config.alertMode;
  const now = options.now ?? Date.now;
  const ownership = options.ownership ?? ownsEveryRule();
  const intervalMs = options.intervalMs ?? ctx.config.alertIntervalSeconds * 1_000;
  const worker = createIntervalWorker({ ctx, logger, now, intervalMs, cycle: () => cycle() });
  const { writer, recorded } = createEngineWrites({ ctx, logger, worker, wake: options.wake, handoff: options.handoff, dryRun: options.dryRun });
  const sink = createWriteSink(() => writer);
  const machine = provideRuleEffects(ctx.metrics, sink);
  // Interval mode changes states only at the worker's evaluations: no deadline timers.
  const actors = createRuleActors({ registry: ctx.registry, logger, machine, now, clock: options.clock, timers: mode !== 'interval', inspect: ctx.inspect });
  /** A rule that stops leaves no alert open: its firing alert is resolved with the last value it saw. */
  const retire = (last: PersistedAlert | undefined, rule: Rule) => {
    if (last && holdsAlert(last)) writer.push({ kind: 'resolve', rule, value: last.context.value ?? Number.NaN, at: now() });
  };
  const rules = createRuleService({ store: ctx.store, actors, retire, owns: (rule) => ownership.owns(rule), learn: (some) => ownership.learn(some), changed: options.ruleChanges?.publish });
  // Rules owned by partition move between instances: their handovers are ordered through the store.
  const fence = ownership.assignments && !options.dryRun ? createPartitionFence({ store: ctx.store, logger, leaseMs: ctx.config.kafka?.sessionTimeoutMs ?? FENCE_LEASE_MS }) : undefined;
  const adoption = createRuleAdoption({ store: ctx.store, actors, ownership, writer, logger, now, dryRun: options.dryRun, listed: rules.remember, ...(fence ? { fence } : {}) });
  const { ingest, accept } = createIngest({ metrics: ctx.metrics, actors, sink, writer, mode, now, report: worker.send, forward: options.forward, dryRun: options.dryRun });

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
    const evaluated = mode === 'reactive' ? { evaluations: 0, errors: 0, lastError: null } : actors.evaluate(await ctx.store.readings.latestAll());
    return { rules: actors.size, ...evaluated, durationMs: performance.now() - started, at: now() };
  }

  let handovers: Subscription | undefined;
  const parts: EngineParts = { ctx, logger, actors, writer, worker, dryRun: options.dryRun };
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
      await adoption.startRules();
      handovers = ownership.assignments
        ?.pipe(concatMap((partitions) => from(adoption.handOver(partitions).catch((error: unknown) => logger.error({ err: error, partitions }, 'rule handover failed')))))
        .subscribe();
      options.ruleChanges?.start({ refresh: (ruleId) => rules.refresh(ruleId), reconcile });
      if (options.dryRun) return;
      const persisted = (await ctx.store.snapshots.load(ALERT_WORKER_ID)) as { context?: Partial<AlertWorkerContext> } | undefined;
      worker.start(persisted?.context);
      logger.info({ rules: actors.size, mode }, 'alert engine started');
    },
    /**
     * Stops the worker, finishes the writes in flight, persists every rule's state in one call, stops
     * the actors; the waits end by `deadline` (epoch ms; default: a whole shutdown budget from now).
     */
    async stop(deadline: number = deadlineIn()): Promise<void> {
      handovers?.unsubscribe();
      options.ruleChanges?.stop();
      try {
        await stopEngine(parts, deadline);
      } finally {
        await adoption.releaseAll(deadline).catch((error: unknown) => logger.warn({ err: error }, 'partitions not released at stop: their next owner waits for the hold to lapse'));
      }
    },
    /** The worker's statistics with its uptime. */
    workerStats: () => worker.stats(),
    /** Waits for the readings and alert writes queued so far (tests, graceful stop). */
    settle: (): Promise<void> => writer.drain(),
  };
}

/** What `stopEngine` stops. */
interface EngineParts {
  ctx: Pick<RuntimeContext, 'store'>;
  logger: Logger;
  actors: RuleActors;
  writer: AlertWriter;
  worker: IntervalWorker;
  dryRun?: boolean;
}

/** Time a stop keeps from draining the writes for saving the rules' states. */
const SAVE_SHARE = 0.25;

/** The worker's cycle in flight finishes, the queued writes land, every state is persisted in one call, the actors stop. */
async function stopEngine({ ctx, logger, actors, writer, worker, dryRun }: EngineParts, deadline: number): Promise<void> {
  await worker.finish(Math.max(1, timeLeft(deadline) / 2));
  if (!(await drainedWithin(writer, timeLeft(deadline) * (1 - SAVE_SHARE)))) {
    // The store is still refusing writes: they were never acknowledged, so stopping loses nothing promised.
    logger.warn({ queued: writer.queued }, 'alert writes not committed at stop');
  }
  try {
    if (!dryRun) await saveStates(ctx.store, [...actors.persisted(), ...worker.persisted()], deadline, logger);
  } finally {
    worker.stop();
    actors.stopAll();
  }
}

/**
 * Saves every rule's state in one call; a store held up by another process's lock (a `vigil rules
 * apply` during a restart) is waited out for as long as the stop allows: a state not saved is not
 * there at the next start, which then knows the rule only from its stored events.
 */
function saveStates(store: RuntimeContext['store'], states: Parameters<RuntimeContext['store']['snapshots']['save']>[0], deadline: number, logger: Logger) {
  return retryStoreCallBy(() => store.snapshots.save(states), deadline, { logger, what: 'rule states not saved', fields: { states: states.length } });
}

/** The alert engine of one runtime. */
export type AlertEngine = ReturnType<typeof createAlertEngine>;
