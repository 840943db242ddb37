import { Counter, Gauge } from 'prom-client';
import type { PublisherContext } from '../actors/publisher.ts';
import type { SubscriberContext } from '../actors/subscriber.ts';
import type { RuntimeContext } from './context.ts';
import type { ActorRegistry } from './registry.ts';

/** A state value as one label: `running.publishing`; parallel regions joined with `,`. */
export function stateLabel(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'object') return String(value);
  return Object.entries(value as Record<string, unknown>)
    .map(([key, child]) => {
      const rest = stateLabel(child);
      return rest === '' ? key : `${key}.${rest}`;
    })
    .join(',');
}

/** A counter whose value is read at scrape time from an actor's context (which survives restarts). */
function contextCounter(ctx: RuntimeContext, name: string, help: string, read: (registry: ActorRegistry) => number | undefined): void {
  new Counter({
    name,
    help,
    registers: [ctx.metrics],
    collect() {
      this.reset();
      const value = read(ctx.registry);
      if (value !== undefined && value > 0) this.inc(value);
    },
  });
}

const contextOf = <C>(registry: ActorRegistry, id: string): C | undefined =>
  registry.get(id)?.actor.getSnapshot().context as C | undefined;

/**
 * The runtime's own metrics, read at scrape time: `vigil_actors{kind,state}` (actors by kind and
 * state value) and the publisher's and subscriber's message counts. Other concerns register theirs
 * on `ctx.metrics` beside these.
 */
export function registerRuntimeMetrics(ctx: RuntimeContext): void {
  new Gauge({
    name: 'vigil_actors',
    help: 'Actors by kind and current state value',
    labelNames: ['kind', 'state'] as const,
    registers: [ctx.metrics],
    collect() {
      this.reset();
      const counts = new Map<string, { kind: string; state: string; n: number }>();
      for (const entry of ctx.registry.entries()) {
        const snapshot = entry.actor.getSnapshot() as { value?: unknown; status?: string };
        const state = snapshot.status === 'active' ? stateLabel(snapshot.value) : String(snapshot.status);
        const key = `${entry.kind}\u0000${state}`;
        const count = counts.get(key) ?? { kind: entry.kind, state, n: 0 };
        count.n += 1;
        counts.set(key, count);
      }
      for (const { kind, state, n } of counts.values()) this.set({ kind, state }, n);
    },
  });
  contextCounter(ctx, 'vigil_messages_published_total', 'System alerts published by the publisher', (r) => contextOf<PublisherContext>(r, 'publisher')?.published);
  contextCounter(ctx, 'vigil_messages_publish_failed_total', 'Publications that failed', (r) => contextOf<PublisherContext>(r, 'publisher')?.failed);
  contextCounter(ctx, 'vigil_messages_received_total', 'Messages received by the subscriber, every topic', (r) => contextOf<SubscriberContext>(r, 'subscriber')?.received);
  contextCounter(ctx, 'vigil_messages_dropped_total', 'Messages pushed out of the subscriber buffer by newer ones', (r) => contextOf<SubscriberContext>(r, 'subscriber')?.buffer.dropped);
  contextCounter(ctx, 'vigil_messages_dead_lettered_total', 'Messages sent to a dead-letter topic', (r) => contextOf<SubscriberContext>(r, 'subscriber')?.deadLettered);
}
