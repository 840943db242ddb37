import type { ConfigSource } from '../config/index.ts';
import { configFromCli } from './load-config.ts';
import { ConfigError } from '../errors.ts';
import { loggerOf } from '../runtime/logger.ts';
import { cleanup } from '../runtime/retention.ts';
import { openStore } from '../storage/open-store.ts';
import { retentionDaysSchema } from '../domain/time-schema.ts';
import { EXIT } from './exit.ts';

/** `vigil cleanup [--days N]`: one retention run; prints the counts deleted per table as JSON. */
export async function cleanupCommand(overrides: ConfigSource, flags: Record<string, string | true>): Promise<number> {
  const config = configFromCli(overrides, flags);
  let days = config.cleanupRetentionDays;
  if (flags.days !== undefined) {
    const parsed = retentionDaysSchema.safeParse(flags.days === true ? Number.NaN : Number(flags.days));
    if (!parsed.success) throw new ConfigError(`--days: ${parsed.error.issues[0]!.message} (got ${JSON.stringify(flags.days)})`, '--days');
    days = parsed.data;
  }
  const logger = loggerOf(config);
  const store = openStore(config.database, logger.child({ component: 'store' }));
  try {
    await store.migrate();
    const result = await cleanup(store, days);
    logger.info({ days: result.days, cutoff: result.cutoff, ...result.deleted }, 'retention run');
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return EXIT.ok;
  } finally {
    await store.close();
  }
}
