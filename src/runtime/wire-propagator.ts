import { Counter, Histogram } from 'prom-client';
import { createActor, fromPromise, waitFor, type AnyActorRef } from 'xstate';
import { propagatorMachine, type SendRequest, type SendResult } from '../actors/propagator.ts';
import { postJson } from '../channels/http-post.ts';
import type { Config } from '../config/index.ts';
import { DeliveryError } from '../errors.ts';
import { withBackoff, type BackoffOptions } from '../streams/backoff.ts';
import type { Concern } from './concern.ts';
import type { RuntimeContext } from './context.ts';
import type { Logger } from './logger.ts';
import { loadPayloads } from './payload-file.ts';
import { deadlineIn, timeLeft } from './shutdown-budget.ts';

/** What the propagator needs: settings, payloads and the runtime's logger, metrics, run reporter and registry. */
export interface PropagatorOptions {
  settings: NonNullable<Config['propagator']>;
  payloads: Record<string, unknown>[];
  ctx: Pick<RuntimeContext, 'logger' | 'metrics' | 'runs' | 'registry' | 'inspect'>;
  /** Backoff of retries and health probes (defaults: the shared ones). */
  backoff?: Partial<BackoffOptions>;
  /** Period in ms, overriding `settings.periodSeconds` (benchmarks). */
  periodMs?: number;
  /** How long a stop lets the request in flight finish (the machine's default otherwise); the stop's deadline bounds it. */
  stopGraceMs?: number;
}

/** A retry must end this long before the next slot, so the schedule never slips. */
const SLOT_MARGIN_MS = 20;

/** GETs the health endpoint until it answers 2xx, with the shared backoff; only a stop ends it otherwise. */
async function probeHealth(url: string, signal: AbortSignal, backoff: Partial<BackoffOptions> | undefined, onRetry: (info: { attempt: number; delayMs: number; error: unknown }) => void) {
  await withBackoff(
    async () => {
      const response = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(5_000)]) }).catch((error: unknown) => {
        throw new DeliveryError(`health check ${url} failed: ${(error as Error).message}`, { retriable: true, cause: error });
      });
      await response.arrayBuffer().catch(() => undefined);
      if (!response.ok) throw new DeliveryError(`health check ${url} answered ${response.status}`, { status: response.status, retriable: true });
    },
    { ...backoff, maxRetries: Infinity, signal, shouldRetry: () => !signal.aborted, onRetry },
  );
}

/** Sends one payload, retried with the shared backoff until it succeeds or the next slot comes. */
function createSender(options: PropagatorOptions, periodMs: number, logger: Logger) {
  const { settings, payloads, backoff } = options;
  return async function send({ index, tick }: SendRequest, signal: AbortSignal): Promise<SendResult> {
    const deadline = AbortSignal.timeout(Math.max(1, tick.scheduledAt + periodMs - SLOT_MARGIN_MS - Date.now()));
    const bounded = AbortSignal.any([signal, deadline]);
    let attempts = 0;
    let lastError: unknown;
    const status = await withBackoff(
      () => {
        attempts += 1;
        return postJson(settings.endpoint, payloads[index], { signal: bounded, timeoutMs: periodMs }).catch((error: unknown) => {
          lastError = error;
          throw error;
        });
      },
      {
        ...backoff,
        maxRetries: Infinity,
        signal: bounded,
        onRetry: ({ attempt, delayMs, error }) => logger.warn({ attempt, delay_ms: Math.round(delayMs), err: error }, 'send failed; retrying'),
      },
    ).catch((error: unknown) => {
      // Cut off by the next slot while waiting to retry: the last answer says more than the abort does.
      throw bounded.aborted && lastError ? lastError : error;
    });
    return { status, attempts };
  };
}

/** The propagator machine with its sends, health probe and reports provided. */
function providePropagator(options: PropagatorOptions, periodMs: number, logger: Logger) {
  const { settings, ctx, backoff } = options;
  const jitter = new Histogram({
    name: 'vigil_propagator_jitter_seconds',
    help: 'Lateness of each propagator tick behind its slot',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 0.5],
    registers: [ctx.metrics],
  });
  const responses = new Counter({ name: 'vigil_propagator_responses_total', help: 'Propagator responses by HTTP status', labelNames: ['status'], registers: [ctx.metrics] });
  const send = createSender(options, periodMs, logger);
  return propagatorMachine.provide({
    actors: {
      checkHealth: fromPromise(({ signal }) =>
        probeHealth(settings.healthCheckEndpoint!, signal, backoff, ({ attempt, delayMs, error }) =>
          logger.warn({ attempt, delay_ms: Math.round(delayMs), err: error }, 'health check failed; retrying'),
        ).then(() => logger.info({ endpoint: settings.healthCheckEndpoint }, 'health check passed')),
      ),
      send: fromPromise<SendResult, SendRequest>(({ input, signal }) => send(input, signal)),
    },
    actions: {
      reportResponse: (_, report) => {
        jitter.observe(report.jitterMs / 1_000);
        responses.inc({ status: String(report.status ?? 'error') });
        ctx.runs.report('propagator', report.ok ? { ok: true } : { ok: false, error: report.error });
        const fields = { jitter: report.jitterMs, status: report.status, failure_rate: Number(report.failureRate.toFixed(4)), count: report.count, attempts: report.attempts };
        if (report.ok) logger.info(fields, 'payload sent');
        else logger.error({ ...fields, err: report.error }, 'payload not sent');
      },
      reportSkipped: (_, { n }) => logger.warn({ tick: n }, 'tick skipped: previous send still in flight'),
    },
  });
}

/** The propagator as a concern, for `vigil run` and `vigil propagate`. */
export function createPropagatorConcern(options: PropagatorOptions): Concern {
  const { settings, payloads, ctx } = options;
  const logger = ctx.logger.child({ actor: 'propagator' });
  const periodMs = options.periodMs ?? settings.periodSeconds * 1_000;
  const machine = providePropagator(options, periodMs, logger);
  let actor: AnyActorRef | undefined;

  return {
    name: 'propagator',
    async start() {
      actor = createActor(machine, {
        id: 'propagator',
        input: { periodMs, payloadCount: payloads.length, healthCheck: Boolean(settings.healthCheckEndpoint), stopGraceMs: options.stopGraceMs },
        inspect: ctx.inspect,
      });
      ctx.registry.add({ id: 'propagator', kind: 'propagator', actor, machine });
      actor.start();
      actor.send({ type: 'START' });
      logger.info({ endpoint: settings.endpoint, period_ms: periodMs, payloads: payloads.length, health_check: settings.healthCheckEndpoint ?? null }, 'propagator started');
    },
    /** Lets the request in flight finish within its grace and the deadline; stopping the actor then aborts it. */
    async stop(deadline = deadlineIn()) {
      if (!actor) return;
      const running = actor;
      actor = undefined;
      running.send({ type: 'STOP' });
      await waitFor(running, (s) => s.status !== 'active', { timeout: Math.max(1, timeLeft(deadline)) }).catch(() => undefined);
      running.stop();
      ctx.registry.remove('propagator');
      logger.info({ count: (running.getSnapshot().context as { count: number }).count }, 'propagator stopped');
    },
  };
}

/** The propagator inside `vigil run`, when PERIOD_IN_SECONDS, HTTP_POST_ENDPOINT and PAYLOAD_FILE_PATH are set (none otherwise). */
export function propagatorConcerns(ctx: PropagatorOptions['ctx'] & Pick<RuntimeContext, 'config'>): Concern[] {
  const settings = ctx.config.propagator;
  if (!settings) return [];
  return [createPropagatorConcern({ settings, payloads: loadPayloads(settings.payloadFile), ctx })];
}
