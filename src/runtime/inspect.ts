import type { InspectionEvent, Observer } from 'xstate';
import type { Concern } from './concern.ts';
import type { RuntimeContext } from './context.ts';

/** What `createActor(machine, { inspect })` is given. */
export type InspectObserver = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

/** Whether an actor runs a state machine (not a promise, callback or observable: the short-lived children). */
const isMachine = (actor: unknown): boolean => typeof (actor as { logic?: { root?: unknown } } | undefined)?.logic?.root === 'object';

/**
 * `--inspect[=ws://host:port]`: connects every machine actor the runtime creates to the Stately
 * inspector over a WebSocket, each replayed with its definition and current snapshot whenever the
 * connection (re)opens (see `createReplayingAdapter`). Actors that are not machines (the notifier's
 * claims and deliveries, clocks: short-lived promise and callback children) are left out unless
 * INSPECT_CHILDREN is set. Sets `ctx.inspect`, which every wire file passes to `createActor`, so it
 * must come first in the concern list. Returns no concern when INSPECT is unset: inspection halves
 * XState throughput.
 */
export function inspectionConcerns(ctx: RuntimeContext): Concern[] {
  const url = ctx.config.inspect;
  if (!url) return [];
  const children = ctx.config.inspectChildren === true;
  let inspector: { inspect: Observer<InspectionEvent>; start(): void; stop(): void } | undefined;
  ctx.inspect = (event: InspectionEvent) => {
    if (children || isMachine(event.actorRef)) inspector?.inspect.next?.(event);
  };
  return [
    {
      name: 'inspector',
      async start() {
        // Loaded only when inspection is asked for: no actor exists before the first concern starts.
        const [{ createInspector }, { createReplayingAdapter }] = await Promise.all([import('@statelyai/inspect'), import('./inspect-adapter.ts')]);
        const adapter = createReplayingAdapter({ url, logger: ctx.logger.child({ component: 'inspector' }) });
        inspector = createInspector(adapter as Parameters<typeof createInspector>[0], { autoStart: false });
        inspector.start();
      },
      async stop() {
        inspector?.stop();
      },
    },
  ];
}
