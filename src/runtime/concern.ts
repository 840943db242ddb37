import type { AnyActorRef, AnyStateMachine } from 'xstate';
import { waitFor } from 'xstate';
import type { RuntimeContext } from './context.ts';
import { deadlineIn, timeLeft } from './shutdown-budget.ts';
import { retryStoreCallBy } from './store-retry.ts';
import type { TopicHandler } from './topic-handler.ts';

/** A readiness check shown by `GET /readyz` (the MQTT connection, say). */
export interface ReadinessCheck {
  name: string;
  check(): { ok: boolean; detail?: string };
}

/**
 * One concern of the runtime (publisher, subscriber, alert engine…), as a value: what it starts and
 * stops, and the parts it hands to the runtime (topic handlers for the subscriber, readiness checks
 * for `/readyz`). What a concern offers other concerns or the HTTP routes it exposes as named
 * functions beside these (the notifier's `wake`, the subscriber's `messages`).
 */
export interface Concern {
  name: string;
  start(): Promise<void>;
  /**
   * Stops ticking, drains what is in flight and persists what must survive a restart, by `deadline`
   * (epoch ms, given by the runtime's shutdown budget; default: a whole budget from now). Work
   * still running then is given up: the runtime does not wait for it.
   */
  stop(deadline?: number): Promise<void>;
  /** Handlers of broker topics, routed by the subscriber. */
  topics?: Record<string, TopicHandler>;
  readiness?: ReadinessCheck[];
}

/** What an actor concern needs to create its actor from a restored context. */
export interface ActorConcernOptions {
  id: string;
  kind: string;
  ctx: Pick<RuntimeContext, 'registry' | 'store' | 'logger'>;
  /** Creates the (unstarted) actor, given the context persisted at the last stop, if any. */
  create(restored: Record<string, unknown> | undefined): { actor: AnyActorRef; machine: AnyStateMachine };
}

/** An actor concern, with the actor it runs while started. */
export interface ActorConcern extends Concern {
  /** The running actor; undefined before start and after stop. */
  readonly actor: AnyActorRef | undefined;
}

/** Time kept from the drain for saving the snapshot, so a slow drain does not cost the persisted state. */
const SAVE_SHARE = 0.25;

/**
 * A concern run by one long-lived actor that understands START and STOP: restores its context from
 * the store, registers it, and on stop waits for it to drain and persists its snapshot.
 */
export function actorConcern(options: ActorConcernOptions): ActorConcern {
  const { id } = options;
  const { registry, store, logger } = options.ctx;
  let actor: AnyActorRef | undefined;
  return {
    name: id,
    get actor() {
      return actor;
    },
    async start() {
      const persisted = (await store.snapshots.load(id)) as { context?: Record<string, unknown> } | undefined;
      const created = options.create(persisted?.context);
      actor = created.actor;
      registry.add({ id, kind: options.kind, actor: created.actor, machine: created.machine });
      actor.start();
      actor.send({ type: 'START' });
      logger.info({ actor: id, restored: Boolean(persisted) }, 'actor started');
    },
    async stop(deadline = deadlineIn()) {
      if (!actor) return;
      const running = actor;
      actor = undefined;
      running.send({ type: 'STOP' });
      try {
        await waitFor(running, (snapshot) => snapshot.status !== 'active', { timeout: Math.max(1, timeLeft(deadline) * (1 - SAVE_SHARE)) });
      } catch {
        logger.warn({ actor: id }, 'actor did not drain in time; stopping it anyway');
      }
      // A store held up by another process's lock is waited out while the stop allows: the state
      // not saved would be lost, and the next start would restore an older one.
      const snapshot = running.getPersistedSnapshot();
      try {
        await retryStoreCallBy(() => store.snapshots.save([{ actorId: id, snapshot }]), deadline, { logger, what: 'actor state not saved', fields: { actor: id } });
      } finally {
        running.stop();
        registry.remove(id);
      }
      logger.info({ actor: id }, 'actor stopped');
    },
  };
}
