import { assign, setup } from 'xstate';
import { PLUGIN_THRESHOLDS, type PluginHealth, type PluginStatus, type PluginThresholds } from '../domain/plugin.ts';

/** What a plugin health actor is created with; `restored` is the plugin's stored row. */
export interface PluginHealthInput {
  name: string;
  thresholds?: PluginThresholds;
  restored?: PluginHealth;
}

/** One run of the plugin: `at` is its ISO time. */
export type PluginHealthEvent = { type: 'RUN'; ok: boolean; error?: string; at: string };

type Context = PluginHealth & { thresholds: PluginThresholds };

/** The status a number of consecutive failures means. */
const statusFor = (failures: number, t: PluginThresholds): PluginStatus =>
  failures >= t.unhealthyAt ? 'unhealthy' : failures >= t.degradedAt ? 'degraded' : 'healthy';

/** The figures without the thresholds: what is persisted and served. */
const healthOf = ({ thresholds: _t, ...health }: Context): PluginHealth => health;

/**
 * Health of one plugin from its runs: `healthy → degraded → unhealthy` by consecutive failures
 * (thresholds in PLUGIN_THRESHOLDS), with totals and success rate. Every run is persisted; becoming
 * unhealthy, reaching the manual-intervention threshold and recovering from unhealthy each notify.
 */
export const pluginHealthMachine = setup({
  types: {
    context: {} as Context,
    input: {} as PluginHealthInput,
    events: {} as PluginHealthEvent,
  },
  actions: {
    record: assign(({ context }, run: PluginHealthEvent) => {
      const total_runs = context.total_runs + 1;
      const total_failures = context.total_failures + (run.ok ? 0 : 1);
      const consecutive_failures = run.ok ? 0 : context.consecutive_failures + 1;
      return {
        total_runs,
        total_failures,
        consecutive_failures,
        success_rate: (total_runs - total_failures) / total_runs,
        last_run_at: run.at,
        last_success_at: run.ok ? run.at : context.last_success_at,
        last_error: run.ok ? context.last_error : (run.error ?? 'failed'),
        status: statusFor(consecutive_failures, context.thresholds),
      };
    }),
    // Provided by the runtime: upserts the row, notifies.
    persist: (_, _health: PluginHealth) => {},
    notifyFailing: (_, _health: PluginHealth) => {},
    notifyRecovered: (_, _health: PluginHealth) => {},
  },
  guards: {
    isHealthy: ({ context }) => context.status === 'healthy',
    isDegraded: ({ context }) => context.status === 'degraded',
    isUnhealthy: ({ context }) => context.status === 'unhealthy',
    reachesIntervention: ({ context, event }) => !event.ok && context.consecutive_failures + 1 === context.thresholds.interventionAt,
  },
}).createMachine({
  id: 'pluginHealth',
  context: ({ input }) => {
    const thresholds = input.thresholds ?? PLUGIN_THRESHOLDS;
    const r = input.restored;
    const consecutive_failures = r?.consecutive_failures ?? 0;
    return {
      name: input.name,
      status: statusFor(consecutive_failures, thresholds),
      last_run_at: r?.last_run_at ?? null,
      last_success_at: r?.last_success_at ?? null,
      last_error: r?.last_error ?? null,
      consecutive_failures,
      total_runs: r?.total_runs ?? 0,
      total_failures: r?.total_failures ?? 0,
      success_rate: r?.success_rate ?? 1,
      thresholds,
    };
  },
  on: {
    RUN: {
      actions: [
        { type: 'record', params: ({ event }) => event },
        { type: 'persist', params: ({ context }) => healthOf(context) },
      ],
    },
  },
  // Restoring enters the stored status without notifying again.
  initial: 'restoring',
  states: {
    restoring: {
      always: [
        { guard: 'isUnhealthy', target: 'unhealthy' },
        { guard: 'isDegraded', target: 'degraded' },
        { target: 'healthy' },
      ],
    },
    healthy: {
      always: [
        { guard: 'isUnhealthy', target: 'unhealthy', actions: { type: 'notifyFailing', params: ({ context }) => healthOf(context) } },
        { guard: 'isDegraded', target: 'degraded' },
      ],
    },
    degraded: {
      always: [
        { guard: 'isUnhealthy', target: 'unhealthy', actions: { type: 'notifyFailing', params: ({ context }) => healthOf(context) } },
        { guard: 'isHealthy', target: 'healthy' },
      ],
    },
    unhealthy: {
      always: { guard: 'isHealthy', target: 'healthy', actions: { type: 'notifyRecovered', params: ({ context }) => healthOf(context) } },
      on: {
        RUN: [
          {
            guard: 'reachesIntervention',
            actions: [
              { type: 'record', params: ({ event }) => event },
              { type: 'persist', params: ({ context }) => healthOf(context) },
              { type: 'notifyFailing', params: ({ context }) => healthOf(context) },
            ],
          },
          {
            actions: [
              { type: 'record', params: ({ event }) => event },
              { type: 'persist', params: ({ context }) => healthOf(context) },
            ],
          },
        ],
      },
    },
  },
});
