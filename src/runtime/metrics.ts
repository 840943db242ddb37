import { collectDefaultMetrics, Counter, Gauge } from 'prom-client';
import type { AlertContext } from '../actors/alert.ts';
import type { PublisherContext } from '../actors/publisher.ts';
import type { SubscriberContext } from '../actors/subscriber.ts';
import type { RuntimeContext } from './context.ts';
import { snapshotOf, type ActorRegistry } from './registry.ts';

/** What the runtime's own metrics read: the actors, at scrape time, into this registry. */
type MetricsDeps = Pick<RuntimeContext, 'metrics' | 'registry'>;

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
function contextCounter(ctx: MetricsDeps, name: string, help: string, read: (registry: ActorRegistry) => number | undefined): void {
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
 * `vigil_alerts{rule_id,device_id,metric,severity,alertstate} 1` per rule that is pending or firing,
 * like Prometheus's own `ALERTS` series: a query such as `vigil_alerts{alertstate="firing"}` lists
 * what fires now, with its labels.
 */
function registerAlertSeries(ctx: MetricsDeps): void {
  new Gauge({
    name: 'vigil_alerts',
    help: 'One series per pending or firing alert (like Prometheus ALERTS), valued 1',
    labelNames: ['rule_id', 'device_id', 'metric', 'severity', 'alertstate'] as const,
    registers: [ctx.metrics],
    collect() {
      this.reset();
      for (const entry of ctx.registry.entries('rule')) {
        const snapshot = snapshotOf(entry) as { value?: unknown; status?: string; context?: AlertContext };
        const top = typeof snapshot.value === 'object' && snapshot.value !== null ? Object.keys(snapshot.value)[0] : snapshot.value;
        if (snapshot.status !== 'active' || (top !== 'pending' && top !== 'firing') || !snapshot.context) continue;
        const { rule } = snapshot.context;
        this.set({ rule_id: rule.id, device_id: String(rule.device_id), metric: rule.metric, severity: rule.severity, alertstate: top }, 1);
      }
    },
  });
}

/**
 * The runtime's own metrics, read at scrape time: Node's process_* and nodejs_* defaults,
 * `vigil_actors{kind,state,status}` (actors by kind, state value and actor status: `active`,
 * `done`, `error`, `stopped`), `vigil_alerts` and the publisher's and subscriber's message counts.
 * Other concerns register theirs on `ctx.metrics` beside these.
 */
export function registerRuntimeMetrics(ctx: MetricsDeps): void {
  collectDefaultMetrics({ register: ctx.metrics });
  new Gauge({
    name: 'vigil_actors',
    help: 'Actors by kind, current state value and actor status',
    labelNames: ['kind', 'state', 'status'] as const,
    registers: [ctx.metrics],
    collect() {
      this.reset();
      const counts = new Map<string, { kind: string; state: string; status: string; n: number }>();
      for (const entry of ctx.registry.entries()) {
        const snapshot = snapshotOf(entry) as { value?: unknown; status?: string };
        const state = stateLabel(snapshot.value);
        const status = String(snapshot.status);
        const key = `${entry.kind}\u0000${state}\u0000${status}`;
        const count = counts.get(key) ?? { kind: entry.kind, state, status, n: 0 };
        count.n += 1;
        counts.set(key, count);
      }
      for (const { kind, state, status, n } of counts.values()) this.set({ kind, state, status }, n);
    },
  });
  registerAlertSeries(ctx);
  contextCounter(ctx, 'vigil_messages_published_total', 'System alerts published by the publisher', (r) => contextOf<PublisherContext>(r, 'publisher')?.published);
  contextCounter(ctx, 'vigil_messages_publish_failed_total', 'Publications that failed', (r) => contextOf<PublisherContext>(r, 'publisher')?.failed);
  contextCounter(ctx, 'vigil_messages_received_total', 'Messages received by the subscriber, every topic', (r) => contextOf<SubscriberContext>(r, 'subscriber')?.received);
  contextCounter(ctx, 'vigil_messages_dropped_total', 'Messages pushed out of the subscriber buffer by newer ones', (r) => contextOf<SubscriberContext>(r, 'subscriber')?.buffer.dropped);
  contextCounter(ctx, 'vigil_messages_dead_lettered_total', 'Messages sent to a dead-letter topic', (r) => contextOf<SubscriberContext>(r, 'subscriber')?.deadLettered);
}
