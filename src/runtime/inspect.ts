import type { InspectionEvent, Observer } from 'xstate';
import type { Concern } from './concern.ts';
import type { InspectObserver, RuntimeContext } from './context.ts';

export type { InspectObserver } from './context.ts';

/** Whether an actor runs a state machine (not a promise, callback or observable: the short-lived children). */
const isMachine = (actor: unknown): boolean => typeof (actor as { logic?: { root?: unknown } } | undefined)?.logic?.root === 'object';

/** The inspection concern, and the observer every other concern passes to `createActor`. */
export interface Inspection {
  concern: Concern;
  inspect: InspectObserver;
}

/**
 * `--inspect[=ws://host:port]`: connects every machine actor the runtime creates to the Stately
 * inspector over a WebSocket, each replayed with its definition and current snapshot whenever the
 * connection (re)opens (see `createReplayingAdapter`). Actors that are not machines (the notifier's
 * claims and deliveries, clocks: short-lived promise and callback children) are left out unless
 * INSPECT_CHILDREN is set. Returns the observer, which the runtime hands to every other concern,
 * and the concern that connects it; undefined when INSPECT is unset: inspection halves XState
 * throughput.
 */
export function wireInspection(deps: Pick<RuntimeContext, 'config' | 'logger'>): Inspection | undefined {
  const url = deps.config.inspect;
  if (!url) return undefined;
  const children = deps.config.inspectChildren === true;
  let inspector: { inspect: Observer<InspectionEvent>; start(): void; stop(): void } | undefined;
  const inspect = (event: InspectionEvent) => {
    if (children || isMachine(event.actorRef)) inspector?.inspect.next?.(event);
  };
  const concern: Concern = {
    name: 'inspector',
    async start() {
      // Loaded only when inspection is asked for: no actor exists before the first concern starts.
      const [{ createInspector }, { createReplayingAdapter }] = await Promise.all([import('@statelyai/inspect'), import('./inspect-adapter.ts')]);
      const adapter = createReplayingAdapter({ url, logger: deps.logger.child({ component: 'inspector' }) });
      inspector = createInspector(adapter as Parameters<typeof createInspector>[0], { autoStart: false });
      inspector.start();
    },
    async stop() {
      inspector?.stop();
    },
  };
  return { concern, inspect };
}
