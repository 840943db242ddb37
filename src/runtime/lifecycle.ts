import type { Concern } from './concern.ts';
import type { RuntimeContext } from './context.ts';
import type { Listening } from './listen.ts';
import { checkClock } from './store-clock.ts';
import { ADAPTER_SHARE, deadlineIn, settledBy, timeLeft, type Stoppable } from './shutdown-budget.ts';

/** What a runtime starts and stops: its concerns (in start order and in stop stages), and its adapters. */
export interface LifecycleParts {
  ports: Pick<RuntimeContext, 'store' | 'broker' | 'registry' | 'logger'>;
  concerns: Concern[];
  stages: Concern[][];
  /** The whole shutdown budget, in ms. */
  budgetMs: number;
  /** Called first on stop, before anything waits (closing SSE streams). */
  onStopping?: () => void;
}

/** Stops the members of each stage in parallel, the stages in turn, each stage given a fair share of the time left. */
async function stopStages(stages: Stoppable[][], deadline: number, logger: RuntimeContext['logger']): Promise<void> {
  for (const [i, stage] of stages.entries()) {
    const stageDeadline = Date.now() + timeLeft(deadline) / (stages.length - i);
    await Promise.all(stage.map((part) => settledBy(() => part.stop(stageDeadline), stageDeadline, { name: part.name, logger })));
  }
}

/**
 * Starts the concerns in order, then serves; stops within one budget: the server and the first
 * stage of concerns, then the others stage by stage, then the broker and the store, each given
 * the time left. Whatever is still stopping at its deadline is given up, so `stop()` always
 * resolves within the budget.
 */
export function createLifecycle(parts: LifecycleParts) {
  const { store, broker, registry, logger } = parts.ports;
  let started = false;
  let server: Listening | undefined;
  let stopping: Promise<void> | undefined;

  async function start(serve?: () => Promise<Listening>): Promise<{ url?: string }> {
    await store.migrate();
    await checkClock(store, logger);
    for (const concern of parts.concerns) await concern.start();
    started = true;
    if (!serve) return {};
    server = await serve();
    return { url: server.url };
  }

  async function shutdown(): Promise<void> {
    started = false;
    const deadline = deadlineIn(parts.budgetMs);
    logger.info({ budget_ms: parts.budgetMs }, 'stopping');
    parts.onStopping?.();
    const [first = [], ...rest] = parts.stages;
    await stopStages([[...(server ? [server] : []), ...first], ...rest], deadline - parts.budgetMs * ADAPTER_SHARE, logger);
    const adapters = [
      { name: 'broker', stop: () => broker.close() },
      { name: 'store', stop: () => store.close() },
    ];
    await stopStages([adapters], deadline, logger);
    registry.complete();
    logger.info('stopped');
  }

  return {
    isStarted: () => started,
    start,
    /** Idempotent: every call gets the one stop. */
    stop: () => (stopping ??= shutdown()),
  };
}
