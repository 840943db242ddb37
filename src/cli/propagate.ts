import { Registry } from 'prom-client';
import type { ConfigSource } from '../config/index.ts';
import { configFromCli } from './load-config.ts';
import { ConfigError } from '../errors.ts';
import { loggerOf } from '../runtime/logger.ts';
import { loadPayloads } from '../runtime/payload-file.ts';
import { ActorRegistry } from '../runtime/registry.ts';
import { createRunReporter } from '../runtime/run-reporter.ts';
import { createPropagatorConcern } from '../runtime/wire-propagator.ts';
import { EXIT } from './exit.ts';
import { onShutdownSignal } from './signals.ts';

/** `vigil propagate`: the event propagator alone (no store, no HTTP), until SIGINT/SIGTERM. */
export async function propagateCommand(overrides: ConfigSource, flags: Record<string, string | true>): Promise<number> {
  const config = configFromCli(overrides, flags);
  const settings = config.propagator;
  if (!settings) {
    throw new ConfigError('PERIOD_IN_SECONDS: required by vigil propagate; set PERIOD_IN_SECONDS, HTTP_POST_ENDPOINT and PAYLOAD_FILE_PATH', 'PERIOD_IN_SECONDS');
  }
  const payloads = loadPayloads(settings.payloadFile);
  const logger = loggerOf(config);
  const concern = createPropagatorConcern({
    settings,
    payloads,
    ctx: { logger, metrics: new Registry(), runs: createRunReporter(), registry: new ActorRegistry() },
  });
  await concern.start();
  return new Promise<number>((resolve) => {
    onShutdownSignal(async (signal) => {
      logger.info({ signal }, 'shutdown requested');
      await concern.stop();
      logger.info('stopped');
      resolve(EXIT.ok);
    });
  });
}
