import { Counter } from 'prom-client';
import { createActor, type Actor } from 'xstate';
import { silenceMachine } from '../actors/silence.ts';
import type { Notification } from '../domain/notification.ts';
import { silenceMatches, silenceStateAt, type AlertLabels, type Silence, type SilenceInput, type SilenceState } from '../domain/silence.ts';
import type { RuntimeContext } from './context.ts';

/** A silence as the API serves it: the stored row and its state now. */
export type SilenceView = Silence & { state: SilenceState };

/** What the routes and the notifier use of the silences. */
export interface Silences {
  create(input: SilenceInput): Promise<SilenceView>;
  list(): Promise<SilenceView[]>;
  get(id: string): Promise<SilenceView | undefined>;
  /** Ends the silence now; false when no silence has this id. */
  expire(id: string): Promise<boolean>;
  /** The claimed rows to deliver: those a silence matches are marked `suppressed`, counted and left out. */
  screen(rows: Notification[]): Promise<Notification[]>;
  /** Creates an actor for every unexpired stored silence (a restart, or one set by another instance). */
  load(): Promise<void>;
  stop(): void;
}

/** The registry id of a silence's actor. */
export const silenceActorId = (id: string): string => `silence:${id}`;

/** What silences match a notification on: its rule, and the device and metric its template recorded. */
export function labelsOf(row: Notification): AlertLabels {
  const text = (value: unknown): string | null => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : null);
  return { rule_id: row.alert_id, device_id: text(row.metadata.device_id), metric: text(row.metadata.metric), severity: row.severity };
}

/**
 * Silences as actors (`silence:<id>`, kind `silence`), each with its own timers, created from the
 * store. An actor leaves the registry once expired. Screening first adopts silences other instances
 * set or ended, so every instance suppresses alike.
 */
export function createSilences(ctx: Pick<RuntimeContext, 'store' | 'registry' | 'metrics' | 'logger' | 'inspect'>): Silences {
  const logger = ctx.logger.child({ component: 'silences' });
  const suppressed = new Counter({
    name: 'vigil_notifications_suppressed_total',
    help: 'Notifications not sent because an active silence matched their alert, per channel',
    labelNames: ['channel'],
    registers: [ctx.metrics],
  });
  const actors = new Map<string, Actor<typeof silenceMachine>>();

  function track(silence: Silence): void {
    const known = actors.get(silence.id);
    if (known) {
      if (Date.parse(silence.ends_at) < known.getSnapshot().context.endsMs) known.send({ type: 'EXPIRE', at: silence.ends_at });
      return;
    }
    if (silenceStateAt(silence, Date.now()) === 'expired') return;
    const id = silenceActorId(silence.id);
    const actor = createActor(silenceMachine, { id, input: { silence, now: Date.now() }, ...(ctx.inspect ? { inspect: ctx.inspect } : {}) });
    actors.set(silence.id, actor);
    ctx.registry.add({ id, kind: 'silence', actor, machine: silenceMachine });
    actor.subscribe({
      complete: () => {
        if (actor.getSnapshot().status !== 'done') return;
        actors.delete(silence.id);
        ctx.registry.remove(id);
        logger.info({ silence: silence.id }, 'silence expired');
      },
    });
    actor.start();
  }

  const view = (silence: Silence): SilenceView => {
    const actor = actors.get(silence.id);
    const state = actor ? (actor.getSnapshot().value as SilenceState) : silenceStateAt(silence, Date.now());
    return { ...silence, state };
  };

  async function load(): Promise<void> {
    for (const silence of await ctx.store.silences.unexpired(new Date().toISOString())) track(silence);
  }

  return {
    async create(input) {
      const silence = await ctx.store.silences.create(input);
      track(silence);
      logger.info({ silence: silence.id, created_by: silence.created_by }, 'silence created');
      return view(silence);
    },
    async list() {
      return (await ctx.store.silences.list()).map(view);
    },
    async get(id) {
      const silence = await ctx.store.silences.get(id);
      return silence && view(silence);
    },
    async expire(id) {
      const at = new Date().toISOString();
      const silence = await ctx.store.silences.expire(id, at);
      if (!silence) return false;
      actors.get(id)?.send({ type: 'EXPIRE', at: silence.ends_at });
      return true;
    },
    async screen(rows) {
      if (rows.length === 0) return rows;
      await load();
      const active = [...actors.values()].filter((actor) => actor.getSnapshot().value === 'active').map((actor) => actor.getSnapshot().context.silence);
      if (active.length === 0) return rows;
      const silenced = rows.filter((row) => active.some((silence) => silenceMatches(silence, labelsOf(row))));
      if (silenced.length === 0) return rows;
      await ctx.store.silences.suppress(silenced.map((row) => row.id));
      for (const row of silenced) suppressed.inc({ channel: row.channel });
      logger.info({ suppressed: silenced.length }, 'notifications suppressed by silences');
      const kept = new Set(silenced);
      return rows.filter((row) => !kept.has(row));
    },
    load,
    stop() {
      for (const [id, actor] of actors) {
        actors.delete(id);
        actor.stop();
        ctx.registry.remove(silenceActorId(id));
      }
    },
  };
}
