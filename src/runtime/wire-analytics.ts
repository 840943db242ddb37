import type { AnalyticsSnapshot } from '../domain/analytics.ts';
import type { Concern } from './concern.ts';
import type { RuntimeContext } from './context.ts';
import { collectAnalytics } from './analytics-snapshot.ts';
import { periodicJobConcern } from './periodic-job-concern.ts';

/** The analytics concern, and its reads: the latest snapshot (kept in memory) and the stored ones. */
export interface AnalyticsConcern extends Concern {
  latest(): AnalyticsSnapshot | undefined;
  list(since: string | undefined, limit: number): Promise<AnalyticsSnapshot[]>;
}

/** Analytics: a snapshot every ANALYTICS_INTERVAL_SECONDS, stored, the latest kept in memory for `GET /analytics/latest`. */
export function analyticsConcern(ctx: Pick<RuntimeContext, 'config' | 'logger' | 'store' | 'registry' | 'runs' | 'inspect'>): AnalyticsConcern {
  const periodMs = ctx.config.analyticsIntervalSeconds * 1_000;
  let latest: AnalyticsSnapshot | undefined;
  const job = periodicJobConcern(ctx, {
    id: 'analytics',
    periodMs,
    work: async () => {
      const snapshot = await collectAnalytics(ctx.store, periodMs);
      await ctx.store.analytics.insert(snapshot);
      latest = snapshot;
      return { generated_at: snapshot.generated_at, firing: snapshot.firing };
    },
    describe: (result) => result as Record<string, unknown>,
  });
  return {
    name: job.name,
    async start() {
      [latest] = await ctx.store.analytics.list(undefined, 1);
      await job.start();
    },
    stop: job.stop,
    latest: () => latest,
    list: (since, limit) => ctx.store.analytics.list(since, limit),
  };
}
