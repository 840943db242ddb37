import type { InspectionEvent, Observer } from 'xstate';
import type { Concern } from './concern.ts';
import type { InspectObserver, RuntimeContext } from './context.ts';
import type { InspectionMessage } from './inspect-memory.ts';

export type { InspectObserver } from './context.ts';

/** Whether an actor runs a state machine (not a promise, callback or observable: the short-lived children). */
const isMachine = (actor: unknown): boolean => typeof (actor as { logic?: { root?: unknown } } | undefined)?.logic?.root === 'object';

/** Where inspection messages go: the outgoing WebSocket (INSPECT) and Vigil's own bridge (INSPECT_PORT). */
interface Sink {
  send(message: InspectionMessage): void;
  stop(): void | Promise<void>;
}

/** The inspection concern, and the observer every other concern passes to `createActor`. */
export interface Inspection {
  concern: Concern;
  inspect: InspectObserver;
}

/**
 * Inspection, opt-in (it halves XState throughput), in two ways that can run together:
 * `--inspect[=ws://host:port]` (INSPECT) connects to a Stately inspector bridge over a WebSocket,
 * each actor replayed with its definition and current snapshot whenever the connection (re)opens
 * (see `createReplayingAdapter`); INSPECT_PORT serves Vigil's own bridge, a page embedding the
 * Stately inspector whose every viewer is first sent every live actor (see `createInspectorBridge`).
 * Actors that are not machines (the notifier's claims and deliveries, clocks: short-lived promise
 * and callback children) are left out unless INSPECT_CHILDREN is set. Returns the observer, which
 * the runtime hands to every other concern, and the concern that connects it; undefined when
 * neither is set.
 */
export function wireInspection(deps: Pick<RuntimeContext, 'config' | 'logger'>): Inspection | undefined {
  const { inspect: url, inspectPort: port, inspectHost: host } = deps.config;
  if (!url && port === undefined) return undefined;
  const children = deps.config.inspectChildren === true;
  const sinks: Sink[] = [];
  let inspector: { inspect: Observer<InspectionEvent>; start(): void; stop(): void } | undefined;
  const inspect = (event: InspectionEvent) => {
    if (children || isMachine(event.actorRef)) inspector?.inspect.next?.(event);
  };
  const concern: Concern = {
    name: 'inspector',
    async start() {
      // Loaded only when inspection is asked for: no actor exists before the first concern starts.
      const { createInspector } = await import('@statelyai/inspect');
      const logger = deps.logger.child({ component: 'inspector' });
      if (port !== undefined) {
        const { createInspectorBridge } = await import('./inspect-bridge.ts');
        const bridge = createInspectorBridge({ host, port, logger });
        await bridge.start();
        sinks.push(bridge);
      }
      if (url) {
        const { createReplayingAdapter } = await import('./inspect-adapter.ts');
        const adapter = createReplayingAdapter({ url, logger });
        adapter.start();
        sinks.push(adapter);
      }
      const fanOut = { send: (message: InspectionMessage) => sinks.forEach((sink) => sink.send(message)) };
      inspector = createInspector(fanOut as Parameters<typeof createInspector>[0], { autoStart: false });
    },
    async stop() {
      inspector = undefined;
      for (const sink of sinks.splice(0)) await sink.stop();
    },
  };
  return { concern, inspect };
}
