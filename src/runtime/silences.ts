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
  /** True when no silence is known that is active or yet to start: none could match a row now or soon. */
  quiet(): boolean;
  stop(): void;
}

/** The registry id of a silence's actor. */
export const silenceActorId = (id: string): string => `silence:${id}`;

/** What silences match a notification on: its rule, and the device and metric its template recorded. */
export function labelsOf(row: Notification): AlertLabels {
  const text = (value: unknown): string | null => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : null);
  return { rule_id: row.alert_id, device_id: text(row.metadata.device_id), metric: text(row.metadata.metric), severity: row.severity };
}

/** The silence actors of one runtime, by silence id, each in the registry while not expired. */
class SilenceActors {
  readonly #actors = new Map<string, Actor<typeof silenceMachine>>();

  private readonly ctx: Pick<RuntimeContext, 'registry' | 'logger' | 'inspect'>;

  constructor(ctx: Pick<RuntimeContext, 'registry' | 'logger' | 'inspect'>) {
    this.ctx = ctx;
  }

  /** Creates the actor of a silence not expired yet; for a known one, ends it earlier when the row says so. */
  track(silence: Silence): void {
    const known = this.#actors.get(silence.id);
    if (known) {
      if (Date.parse(silence.ends_at) < known.getSnapshot().context.endsMs) known.send({ type: 'EXPIRE', at: silence.ends_at });
      return;
    }
    if (silenceStateAt(silence, Date.now()) === 'expired') return;
    const id = silenceActorId(silence.id);
    const { inspect } = this.ctx;
    const actor = createActor(silenceMachine, { id, input: { silence, now: Date.now() }, ...(inspect ? { inspect } : {}) });
    this.#actors.set(silence.id, actor);
    this.ctx.registry.add({ id, kind: 'silence', actor, machine: silenceMachine });
    actor.subscribe({
      complete: () => {
        if (actor.getSnapshot().status !== 'done') return;
        this.#actors.delete(silence.id);
        this.ctx.registry.remove(id);
        this.ctx.logger.info({ silence: silence.id }, 'silence expired');
      },
    });
    actor.start();
  }

  expire(id: string, at: string): void {
    this.#actors.get(id)?.send({ type: 'EXPIRE', at });
  }

  /** The silence with its state: its actor's, or from its times once the actor is gone. */
  view(silence: Silence): SilenceView {
    const actor = this.#actors.get(silence.id);
    const state = actor ? (actor.getSnapshot().value as SilenceState) : silenceStateAt(silence, Date.now());
    return { ...silence, state };
  }

  /** How many silences are tracked: active, or pending their start. */
  get size(): number {
    return this.#actors.size;
  }

  /** The silences whose actor is `active` now. */
  active(): Silence[] {
    return [...this.#actors.values()].filter((actor) => actor.getSnapshot().value === 'active').map((actor) => actor.getSnapshot().context.silence);
  }

  stop(): void {
    for (const [id, actor] of this.#actors) {
      this.#actors.delete(id);
      actor.stop();
      this.ctx.registry.remove(silenceActorId(id));
    }
  }
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
  const actors = new SilenceActors({ ...ctx, logger });

  async function load(): Promise<void> {
    for (const silence of await ctx.store.silences.unexpired(new Date().toISOString())) actors.track(silence);
  }

  return {
    async create(input) {
      const silence = await ctx.store.silences.create(input);
      actors.track(silence);
      logger.info({ silence: silence.id, created_by: silence.created_by }, 'silence created');
      return actors.view(silence);
    },
    list: async () => (await ctx.store.silences.list()).map((silence) => actors.view(silence)),
    async get(id) {
      const silence = await ctx.store.silences.get(id);
      return silence && actors.view(silence);
    },
    async expire(id) {
      const silence = await ctx.store.silences.expire(id, new Date().toISOString());
      if (silence) actors.expire(id, silence.ends_at);
      return silence !== undefined;
    },
    async screen(rows) {
      if (rows.length === 0) return rows;
      await load();
      const active = actors.active();
      const silenced = new Set(rows.filter((row) => active.some((silence) => silenceMatches(silence, labelsOf(row)))));
      if (silenced.size === 0) return rows;
      await ctx.store.silences.suppress([...silenced].map((row) => row.id));
      for (const row of silenced) suppressed.inc({ channel: row.channel });
      logger.info({ suppressed: silenced.size }, 'notifications suppressed by silences');
      return rows.filter((row) => !silenced.has(row));
    },
    load,
    quiet: () => actors.size === 0,
    stop: () => actors.stop(),
  };
}
