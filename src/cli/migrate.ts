import type { ConfigSource } from '../config/index.ts';
import { configFromCli } from './load-config.ts';
import { loggerOf } from '../runtime/logger.ts';
import { openStore } from '../storage/open-store.ts';
import { EXIT } from './exit.ts';

/** `vigil migrate`: applies pending migrations and prints what it applied. */
export async function migrateCommand(overrides: ConfigSource, flags: Record<string, string | true>): Promise<number> {
  const config = configFromCli(overrides, flags);
  const logger = loggerOf(config);
  const store = openStore(config.database, logger);
  try {
    const applied = await store.migrate();
    logger.info({ applied, store: store.kind }, applied.length > 0 ? 'migrations applied' : 'database up to date');
    return EXIT.ok;
  } finally {
    await store.close();
  }
}
