import { Gauge } from 'prom-client';
import { createActor, type AnyActorRef } from 'xstate';
import { pluginHealthMachine } from '../actors/plugin-health.ts';
import type { NotificationDraft } from '../channels/routing.ts';
import { collectionFailure, collectionRecovered } from '../channels/templates.ts';
import type { PluginHealth, PluginStatus } from '../domain/plugin.ts';
import type { Concern } from './concern.ts';
import type { RuntimeContext, Wake } from './context.ts';
import { createNoticeSender } from './plugin-notices.ts';
import { latestWriter } from './latest-writer.ts';
import type { RunOutcome } from './run-reporter.ts';
import { retryPatiently } from './store-retry.ts';

const STATUSES: PluginStatus[] = ['healthy', 'degraded', 'unhealthy'];

/** The registry id of a plugin's health actor. */
export const pluginActorId = (name: string): string => `plugin:${name}`;

/** The plugin health concern, and the health of every plugin it tracks (`GET /plugins`). */
export interface PluginHealthConcern extends Concern {
  list(): PluginHealth[];
}

/**
 * Plugin health: one root actor per plugin (`plugin:<name>`, kind `plugin`), created from the stored
 * rows at start or on the plugin's first reported run, fed by every `ctx.runs.report`; its notices
 * go to the outbox, and `wake` tells the notifier. Starts first and stops last, so it sees every
 * other concern's runs.
 */
export function pluginHealthConcern(
  ctx: Pick<RuntimeContext, 'config' | 'logger' | 'store' | 'registry' | 'metrics' | 'runs' | 'inspect'>,
  wake: Wake = () => {},
): PluginHealthConcern {
  const logger = ctx.logger.child({ actor: 'plugin-health' });
  const gauge = new Gauge({
    name: 'vigil_plugin_health',
    help: 'Plugin status: 1 for the status the plugin is in, 0 for the others',
    labelNames: ['plugin', 'status'],
    registers: [ctx.metrics],
  });
  const notice = createNoticeSender({ config: ctx.config, store: ctx.store, wake });
  const actors = new Map<string, AnyActorRef>();
  const writes = new Set<Promise<unknown>>();
  const { retried, healthWriter, stopWaiting } = patientWrites(ctx.store, logger);
  let unlisten: (() => void) | undefined;

  const track = (promise: Promise<unknown>, what: string, plugin: string): void => {
    const tracked = promise.catch((error: unknown) => logger.error({ plugin, err: error }, what)).finally(() => writes.delete(tracked));
    writes.add(tracked);
  };
  /** A channel's own failures are not announced on that channel. */
  const ownChannel = (plugin: string): string | undefined => (plugin.startsWith('channel:') ? plugin.slice('channel:'.length) : undefined);
  /** Enqueues a plugin's alert, waiting out a store held up elsewhere. */
  const alert = (draft: NotificationDraft, plugin: string): void =>
    track(retried(notice(draft, ownChannel(plugin)), 'plugin alert not enqueued', plugin), 'plugin alert not enqueued', plugin);

  function create(name: string, restored?: PluginHealth): AnyActorRef {
    const machine = pluginHealthMachine.provide({
      actions: {
        persist: (_, health) => {
          for (const status of STATUSES) gauge.set({ plugin: name, status }, health.status === status ? 1 : 0);
          healthWriter.set(name, health);
        },
        notifyFailing: (_, health) => {
          logger.warn({ plugin: name, consecutive_failures: health.consecutive_failures, last_error: health.last_error }, 'plugin unhealthy');
          alert(collectionFailure(health), name);
        },
        notifyRecovered: (_, health) => {
          logger.info({ plugin: name }, 'plugin recovered');
          alert(collectionRecovered(health), name);
        },
      },
    });
    const id = pluginActorId(name);
    const actor = createActor(machine, { id, input: { name, restored }, inspect: ctx.inspect });
    ctx.registry.add({ id, kind: 'plugin', actor, machine });
    actor.start();
    actors.set(name, actor);
    if (restored) for (const status of STATUSES) gauge.set({ plugin: name, status }, restored.status === status ? 1 : 0);
    return actor;
  }

  const onRun = (plugin: string, outcome: RunOutcome): void => {
    const actor = actors.get(plugin) ?? create(plugin);
    actor.send({ type: 'RUN', ok: outcome.ok, error: outcome.error, at: outcome.at ?? new Date().toISOString() });
  };

  return {
    name: 'plugin-health',
    async start() {
      for (const row of await ctx.store.plugins.list()) if (!actors.has(row.name)) create(row.name, row);
      unlisten = ctx.runs.listen(onRun);
      logger.info({ plugins: actors.size }, 'plugin health restored');
    },
    async stop() {
      unlisten?.();
      stopWaiting();
      await Promise.all([...writes, healthWriter.drain()]);
      for (const [name, actor] of actors) {
        actor.stop();
        ctx.registry.remove(pluginActorId(name));
      }
      actors.clear();
    },
    list: () => [...actors.values()].map(healthOfActor).sort((a, b) => a.name.localeCompare(b.name)),
  };
}

/**
 * The concern's writes, patient with a store held up by another process's lock (or a dropped
 * connection) until `stopWaiting`. Only a plugin's latest health matters, so health goes through a
 * `latestWriter`: a retried older state never lands over a newer one.
 */
function patientWrites(store: RuntimeContext['store'], logger: RuntimeContext['logger']) {
  const stopping = new AbortController();
  const retried = <T>(write: () => Promise<T>, what: string, plugin: string) => retryPatiently(write, { logger, what, fields: { plugin } }, stopping.signal);
  const healthWriter = latestWriter<string, PluginHealth>(
    (plugin, health) => retried(() => store.plugins.upsert(health), 'plugin health not persisted', plugin),
    (plugin, error) => logger.error({ plugin, err: error }, 'plugin health not persisted'),
  );
  return { retried, healthWriter, stopWaiting: () => stopping.abort(new Error('plugin health stopped')) };
}

/** The persisted figures of a plugin health actor. */
function healthOfActor(actor: AnyActorRef): PluginHealth {
  const { thresholds: _t, ...health } = actor.getSnapshot().context as PluginHealth & { thresholds: unknown };
  return health;
}
