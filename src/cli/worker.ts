import { Registry } from 'prom-client';
import type { Config, ConfigSource } from '../config/index.ts';
import { configFromCli } from './load-config.ts';
import { ConfigError } from '../errors.ts';
import { createAlertEngine } from '../runtime/alerts/engine.ts';
import { loggerOf, type Logger } from '../runtime/logger.ts';
import { ActorRegistry } from '../runtime/registry.ts';
import { createRunReporter } from '../runtime/run-reporter.ts';
import { openStore } from '../storage/open-store.ts';
import type { Store } from '../storage/store.ts';
import { EXIT } from './exit.ts';
import { onShutdownSignal } from './signals.ts';

/** The engine's context outside a full runtime: its own registry, metrics and run reporter. */
const engineContext = (config: Config, logger: Logger, store: Store) => ({
  config,
  logger,
  store,
  registry: new ActorRegistry(),
  metrics: new Registry(),
  runs: createRunReporter(),
});

/** `--config-check`: the config is valid, the store answers and has every table. */
async function configCheck(config: Config, store: Store): Promise<number> {
  try {
    await store.health();
  } catch (error) {
    process.stderr.write(`vigil: DATABASE_URL: the store does not answer (${(error as Error).message})\n`);
    return EXIT.badInput;
  }
  const missing = await store.missingTables();
  if (missing.length > 0) {
    process.stderr.write(`vigil: DATABASE_URL: tables missing (${missing.join(', ')}); run vigil migrate\n`);
    return EXIT.badInput;
  }
  process.stdout.write(`config ok: store ${store.kind} ready, alert interval ${config.alertIntervalSeconds} s, mode ${config.alertMode}\n`);
  return EXIT.ok;
}

/** `--dry-run`: one cycle over the stored rules and latest readings; prints what would fire or resolve. */
async function dryRun(config: Config, logger: Logger, store: Store): Promise<number> {
  const missing = await store.missingTables();
  if (missing.length > 0) throw new ConfigError(`DATABASE_URL: tables missing (${missing.join(', ')}); run vigil migrate`, 'DATABASE_URL');
  const engine = createAlertEngine({ ctx: engineContext(config, logger, store), mode: 'interval', dryRun: true });
  await engine.start();
  const outcome = await engine.cycle();
  for (const w of engine.recorded) {
    const { rule } = w;
    const verb = w.kind === 'fire' ? 'would fire   ' : 'would resolve';
    process.stdout.write(`${verb} ${rule.id} (${rule.name}): ${rule.metric} of device ${rule.device_id} = ${w.value} (${rule.operator} ${rule.threshold})\n`);
  }
  const states = engine.actors.countByState();
  const fire = engine.recorded.filter((w) => w.kind === 'fire').length;
  process.stdout.write(`${JSON.stringify({ rules: outcome.rules, evaluations: outcome.evaluations, would_fire: fire, would_resolve: engine.recorded.length - fire, states })}\n`);
  engine.actors.stopAll();
  return EXIT.ok;
}

/**
 * `vigil worker`: the alert worker alone, in interval mode: every ALERT_INTERVAL_SECONDS (or
 * `--interval S`) it reloads the rules and evaluates each against the latest stored reading.
 */
export async function workerCommand(overrides: ConfigSource, flags: Record<string, string | true>): Promise<number> {
  const interval = typeof flags.interval === 'string' ? { ALERT_INTERVAL_SECONDS: flags.interval } : {};
  const config = configFromCli(overrides, flags, interval);
  const logger = loggerOf(config);
  const store = openStore(config.database, logger.child({ component: 'store' }));
  if (flags['config-check']) return configCheck(config, store).finally(() => store.close());
  if (flags['dry-run']) return dryRun(config, logger, store).finally(() => store.close());
  await store.migrate();
  const engine = createAlertEngine({ ctx: engineContext(config, logger, store), mode: 'interval' });
  await engine.start();
  return new Promise<number>((resolve) => {
    onShutdownSignal(async (signal) => {
      logger.info({ signal }, 'shutdown requested');
      try {
        await engine.stop();
        await store.close();
        logger.info('stopped');
        resolve(EXIT.ok);
      } catch (error) {
        logger.error({ err: error }, 'stop failed');
        resolve(EXIT.failed);
      }
    });
  });
}
