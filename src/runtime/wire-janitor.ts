import type { Concern } from './concern.ts';
import type { RuntimeContext } from './context.ts';
import { periodicJobConcern } from './periodic-job-concern.ts';
import { cleanup, type CleanupResult } from './retention.ts';

const DAY_MS = 86_400_000;

/** The janitor concern, and `cleanup`, a retention run now (`POST /admin/cleanup`). */
export interface JanitorConcern extends Concern {
  cleanup(days?: number): Promise<CleanupResult>;
}

/** The janitor: a daily retention run over CLEANUP_RETENTION_DAYS; `cleanup` runs one now. */
export function janitorConcern(ctx: Pick<RuntimeContext, 'config' | 'logger' | 'store' | 'registry' | 'runs' | 'inspect'>): JanitorConcern {
  const logger = ctx.logger.child({ actor: 'janitor' });
  const run = async (days: number = ctx.config.cleanupRetentionDays): Promise<CleanupResult> => {
    const result = await cleanup(ctx.store, days);
    logger.info({ days: result.days, cutoff: result.cutoff, ...result.deleted }, 'retention run');
    return result;
  };
  const job = periodicJobConcern(ctx, {
    id: 'janitor',
    periodMs: DAY_MS,
    work: () => run(),
    describe: (result) => ({ ...(result as CleanupResult).deleted }),
  });
  return { name: job.name, start: job.start, stop: job.stop, cleanup: run };
}
