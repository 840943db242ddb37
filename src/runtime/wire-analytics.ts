import type { AnalyticsSnapshot } from '../domain/analytics.ts';
import type { Concern } from './concern.ts';
import type { RuntimeContext } from './context.ts';
import { collectAnalytics } from './analytics-snapshot.ts';
import { periodicJobConcern } from './periodic-job-concern.ts';
import { retryPatiently } from './store-retry.ts';

/** The analytics concern, and its reads: the latest snapshot (kept in memory) and the stored ones. */
export interface AnalyticsConcern extends Concern {
  latest(): AnalyticsSnapshot | undefined;
  list(since: string | undefined, limit: number): Promise<AnalyticsSnapshot[]>;
}

/**
 * Analytics: a snapshot every ANALYTICS_INTERVAL_SECONDS, stored, the latest kept in memory for
 * `GET /analytics/latest`. A store held up by another process's lock is waited out (each retry
 * logged), so a `vigil rules apply` during a run leaves no gap in the stored history.
 */
export function analyticsConcern(ctx: Pick<RuntimeContext, 'config' | 'logger' | 'store' | 'registry' | 'runs' | 'inspect'>): AnalyticsConcern {
  const periodMs = ctx.config.analyticsIntervalSeconds * 1_000;
  let latest: AnalyticsSnapshot | undefined;
  const retryLog = { logger: ctx.logger.child({ actor: 'analytics' }), what: 'analytics snapshot not stored' };
  const job = periodicJobConcern(ctx, {
    id: 'analytics',
    periodMs,
    work: async (signal) => {
      const snapshot = await retryPatiently(() => collectAnalytics(ctx.store, periodMs), { ...retryLog, what: 'analytics not collected' }, signal);
      await retryPatiently(() => ctx.store.analytics.insert(snapshot), retryLog, signal);
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
