import type { AnyActorRef, AnyStateMachine } from 'xstate';
import { waitFor } from 'xstate';
import type { RuntimeContext } from './context.ts';

/** One concern of the runtime (publisher, subscriber, alert worker…): started in order, stopped in reverse. */
export interface Concern {
  name: string;
  start(): Promise<void>;
  /** Stops ticking, drains what is in flight and persists what must survive a restart. */
  stop(): Promise<void>;
}

/** What an actor concern needs to create its actor from a restored context. */
export interface ActorConcernOptions {
  id: string;
  kind: string;
  ctx: Pick<RuntimeContext, 'registry' | 'store' | 'logger'>;
  /** Creates the (unstarted) actor, given the context persisted at the last stop, if any. */
  create(restored: Record<string, unknown> | undefined): { actor: AnyActorRef; machine: AnyStateMachine };
  /** How long a stop may wait for the in-flight work before giving up (default 4 s). */
  drainMs?: number;
}

/**
 * A concern run by one long-lived actor that understands START and STOP: restores its context from
 * the store, registers it, and on stop waits for it to drain and persists its snapshot.
 */
export function actorConcern(options: ActorConcernOptions): Concern {
  const { id } = options;
  const { registry, store, logger } = options.ctx;
  let actor: AnyActorRef | undefined;
  return {
    name: id,
    async start() {
      const persisted = (await store.snapshots.load(id)) as { context?: Record<string, unknown> } | undefined;
      const created = options.create(persisted?.context);
      actor = created.actor;
      registry.add({ id, kind: options.kind, actor: created.actor, machine: created.machine });
      actor.start();
      actor.send({ type: 'START' });
      logger.info({ actor: id, restored: Boolean(persisted) }, 'actor started');
    },
    async stop() {
      if (!actor) return;
      const running = actor;
      actor = undefined;
      running.send({ type: 'STOP' });
      try {
        await waitFor(running, (snapshot) => snapshot.status !== 'active', { timeout: options.drainMs ?? 4_000 });
      } catch {
        logger.warn({ actor: id }, 'actor did not drain in time; stopping it anyway');
      }
      await store.snapshots.save([{ actorId: id, snapshot: running.getPersistedSnapshot() }]);
      running.stop();
      registry.remove(id);
      logger.info({ actor: id }, 'actor stopped');
    },
  };
}
