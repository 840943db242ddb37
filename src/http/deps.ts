import type { Logger } from '../runtime/logger.ts';
import type { Config } from '../config/index.ts';
import type { ActorRegistry } from '../runtime/registry.ts';
import type { HealthDeps } from './routes/health.ts';
import type { ObservabilityDeps } from './routes/observability.ts';
import type { SseHub } from './sse-hub.ts';

/**
 * What the HTTP app reads: its middleware's settings and the error log, and what the built-in
 * routes declare they read (health, observability, actors, events, messages). Route modules of the
 * concerns (rules, alerts, plugins…) were given what they read when they were made.
 */
export interface HttpDeps extends HealthDeps, ObservabilityDeps {
  config: Pick<Config, 'rateLimit' | 'apiToken' | 'apiTokenReads' | 'maxBodyBytes'>;
  logger: Logger;
  registry: Pick<ActorRegistry, 'entries' | 'get' | 'size'>;
  sse: SseHub;
  /** The subscriber's buffer, oldest first. */
  messages(): unknown[];
}
