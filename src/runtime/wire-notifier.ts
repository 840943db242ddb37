import { Counter } from 'prom-client';
import { createActor, fromPromise, type AnyActorRef } from 'xstate';
import { notifierMachine, type ClaimedRow, type NotifierContext } from '../actors/notifier.ts';
import type { Notification } from '../domain/notification.ts';
import { channelFor } from '../channels/routing.ts';
import { openChannels } from '../channels/open-channels.ts';
import { actorConcern, type Concern } from './concern.ts';
import type { OutboxHandoff, RuntimeContext, Wake } from './context.ts';
import type { Repeat, RepeatOf } from './dedup-memory.ts';
import { CLAIM_LEASE_MS } from './claim-lease.ts';
import { storeClock } from './store-clock.ts';
import { createDeliverer } from './notification-delivery.ts';
import { claimWatermark } from './claim-watermark.ts';
import { notificationTopics } from './notification-topic.ts';
import type { Logger } from './logger.ts';
import type { Silences } from './silences.ts';

/**
 * The shared backoff, shaped for an outage of minutes rather than a blip: with the defaults (1 s
 * doubling, 10 attempts) a row fails over to the console after roughly 6–8 minutes of failures.
 */
const DELIVERY_BACKOFF = { factor: 2, maxMs: 300_000, jitter: 0.25 } as const;

/** Rows claimed per poll: one claim, one delivery batch and one commit of its results. */
const CLAIM_BATCH = 200;

/** The notifier concern, and `wake`, which producers of outbox rows call to skip its poll wait. */
export interface NotifierConcern extends Concern {
  wake: Wake;
  /** Where the alert writes hand the outbox rows they wrote already claimed. */
  handoff: OutboxHandoff;
}

/**
 * The notifier concern: its actor works the outbox through the configured channels; the
 * `notifications` topic puts notifications in the outbox and wakes it.
 */
export function notifierConcern(
  ctx: Pick<RuntimeContext, 'config' | 'logger' | 'store' | 'registry' | 'metrics' | 'runs' | 'inspect'>,
  silences?: Pick<Silences, 'screen' | 'quiet'>,
): NotifierConcern {
  const logger = ctx.logger.child({ actor: 'notifier' });
  const channels = openChannels(ctx.config, logger);
  const available = new Set(channels.keys());
  // Claims are stamped, renewed and judged stale on the store's clock, the one all instances share.
  const leaseClock = storeClock(ctx.store);
  const deliver = delivererOf(ctx, channels, leaseClock);
  const { notify } = ctx.config;
  const outbox = claimWatermark();
  /** Rows a silence matches are marked suppressed, never delivered; the others are routed to their lanes. */
  const screened = async (rows: Notification[]): Promise<ClaimedRow[]> =>
    (silences ? await silences.screen(rows) : rows).map((row) => ({ row, lane: channelFor(row.channel, available) }));

  const concern = actorConcern({
    id: 'notifier',
    kind: 'notifier',
    ctx,
    create: (restored) => {
      let self: AnyActorRef | undefined;
      const machine = notifierMachine.provide({
        actors: {
          claim: fromPromise<ClaimedRow[]>(async () => {
            outbox.claiming();
            // Due by this instance's clock (the rows' times are its writers'); leased by the store's.
            const leaseNow = new Date(await leaseClock()).toISOString();
            const claimed = await ctx.store.notifications.claim(new Date().toISOString(), CLAIM_BATCH, CLAIM_LEASE_MS, leaseNow);
            if (claimed.length < CLAIM_BATCH) outbox.caughtUp(await ctx.store.notifications.nextDueAt());
            return screened(claimed);
          }),
        },
        actions: {
          deliver: (_, { claimed }) => {
            if (claimed.length === 0) return;
            void deliver(claimed.map(({ row }) => row)).then((outcomes) => {
              for (const outcome of outcomes) if (outcome.kind === 'retrying') outbox.retryAt(outcome.nextAttemptAt);
              if (self?.getSnapshot().status === 'active') self.send({ type: 'BATCH_DELIVERED', outcomes });
            });
          },
          reportClaimFailed: (_, { error }) => logger.error({ err: error }, 'outbox claim failed; retrying at the next poll'),
        },
      });
      const actor = createActor(machine, {
        id: 'notifier',
        input: { pollMs: notify.pollIntervalMs, restored: restored as Partial<NotifierContext> | undefined },
        inspect: ctx.inspect,
      });
      self = actor;
      logger.info({ channels: [...available] }, 'notification channels');
      return { machine, actor };
    },
  });
  const wake = () => concern.actor?.send({ type: 'WAKE' });
  const handoff = outboxHandoff(() => concern.actor, outbox.holds, screened, logger, {
    // A silenced row must be suppressed, not settled as a repeat: none is while a silence is active.
    repeatOf: (channel, dedupKey) => (silences?.quiet() === false ? undefined : deliver.repeatOf(channel, dedupKey)),
    repeated: (found) => deliver.repeated(found),
  });
  return {
    name: concern.name,
    start: concern.start,
    // Deliveries still running at the deadline stay `sending` and are claimed again once stale.
    async stop(deadline) {
      try {
        await concern.stop(deadline);
      } finally {
        await Promise.all([...channels.values()].map((channel) => channel.close()));
      }
    },
    wake,
    handoff,
    topics: notificationTopics({ store: ctx.store, logger, wake }),
  };
}

/**
 * Where the alert writes hand the rows they wrote already claimed: taken only while the notifier is
 * running, its last claim left no due row behind, and no row left pending (a retry) has fallen due
 * since (so no older row of a rule waits unclaimed).
 */
function outboxHandoff(
  actorOf: () => AnyActorRef | undefined,
  caughtUp: () => boolean,
  screened: (rows: Notification[]) => Promise<ClaimedRow[]>,
  logger: Logger,
  repeats: { repeatOf: RepeatOf; repeated: (repeats: Repeat[]) => void },
): OutboxHandoff {
  const inState = (...states: string[]): boolean => {
    const snapshot = actorOf()?.getSnapshot();
    return snapshot?.status === 'active' && states.some((state) => snapshot.matches(state));
  };
  return {
    taking: () => caughtUp() && inState('running'),
    repeatOf: repeats.repeatOf,
    repeated(found) {
      repeats.repeated(found);
      if (inState('running', 'draining')) actorOf()!.send({ type: 'REPEATED', count: found.length });
    },
    take(rows) {
      if (rows.length === 0) return;
      screened(rows).then(
        (claimed) => {
          // Running, or stopping with deliveries in flight: it delivers handed rows with them. Stopped
          // meanwhile: the rows stay claimed until their claim is stale, then go out like any other.
          if (inState('running', 'draining')) actorOf()!.send({ type: 'HANDED', claimed });
          else logger.info({ rows: claimed.length }, 'notifier stopped; handed rows wait for their claim to lapse');
        },
        (error: unknown) => logger.error({ err: error, rows: rows.length }, 'silence screen failed; the handed rows are retried once their claim lapses'),
      );
    },
  };
}

/** The deliverer of claimed rows, with the delivery policy of the configuration and its outcome counter. */
function delivererOf(
  ctx: Pick<RuntimeContext, 'config' | 'logger' | 'store' | 'metrics' | 'runs'>,
  channels: ReturnType<typeof openChannels>,
  leaseNow: () => number | Promise<number>,
): ReturnType<typeof createDeliverer> {
  const outcomes = new Counter({
    name: 'vigil_notifications_total',
    help: 'Notification delivery outcomes per channel',
    labelNames: ['channel', 'outcome'],
    registers: [ctx.metrics],
  });
  const { notify } = ctx.config;
  return createDeliverer({
    notifications: ctx.store.notifications,
    channels,
    policy: {
      maxAttempts: notify.maxAttempts,
      repeatIntervalMs: notify.repeatIntervalSeconds * 1_000,
      backoff: { ...DELIVERY_BACKOFF, initialMs: notify.backoffInitialMs, maxMs: Math.max(DELIVERY_BACKOFF.maxMs, notify.backoffInitialMs) },
    },
    logger: ctx.logger,
    runs: ctx.runs,
    count: (channel, outcome, n) => outcomes.inc({ channel, outcome }, n),
    leaseNow,
  });
}
