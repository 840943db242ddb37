import type { InspectionEvent, Observer } from 'xstate';
import type { Concern } from './concern.ts';
import type { RuntimeContext } from './context.ts';

/** What `createActor(machine, { inspect })` is given. */
export type InspectObserver = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

/**
 * `--inspect[=ws://host:port]`: connects every actor the runtime creates to the Stately inspector
 * over a WebSocket (createWebSocketInspector). Sets `ctx.inspect`, which every wire file passes to
 * `createActor`, so it must come first in the concern list; it connects on start and disconnects on
 * stop. Returns no concern when INSPECT is unset: inspection halves XState throughput. The
 * inspector package (and `ws`) is imported on start, only when inspection is asked for; events
 * before that are dropped (no actor exists before the first concern starts).
 */
export function inspectionConcerns(ctx: RuntimeContext): Concern[] {
  const url = ctx.config.inspect;
  if (!url) return [];
  const logger = ctx.logger.child({ component: 'inspector' });
  let inspector: { inspect: Observer<InspectionEvent>; start(): void; stop(): void } | undefined;
  ctx.inspect = (event: InspectionEvent) => inspector?.inspect.next?.(event);
  return [
    {
      name: 'inspector',
      async start() {
        const { createWebSocketInspector } = await import('@statelyai/inspect');
        inspector = createWebSocketInspector({ url, autoStart: false });
        inspector.start();
        logger.info({ url }, 'actors connected to the Stately inspector');
      },
      async stop() {
        inspector?.stop();
      },
    },
  ];
}
