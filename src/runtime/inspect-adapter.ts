import { WebSocket } from 'ws';
import { ActorMemory, type InspectionMessage } from './inspect-memory.ts';
import type { Logger } from './logger.ts';

/** Options of `createReplayingAdapter`. */
export interface ReplayingAdapterOptions {
  url: string;
  logger: Logger;
  /** Wait before connecting again after a failure or a close (default 5 s, as @statelyai/inspect's own adapter). */
  retryMs?: number;
}

/**
 * The WebSocket side of the Stately inspector, keeping every live actor rather than the last N
 * messages: it remembers each actor's `@xstate.actor` message (its definition) with its latest
 * snapshot, and on every (re)connection sends that per actor first, so a relay or viewer that comes
 * late draws every machine in its current state. An actor that stops is forgotten. Logs `connected`
 * only once the socket opens, and warns when a connection fails or drops.
 */
export function createReplayingAdapter({ url, logger, retryMs = 5_000 }: ReplayingAdapterOptions) {
  const actors = new ActorMemory();
  let socket: WebSocket | undefined;
  let open = false;
  let stopped = true;
  let retry: NodeJS.Timeout | undefined;
  let failures = 0;

  const connect = (): void => {
    if (stopped) return;
    const ws = new WebSocket(url);
    socket = ws;
    ws.on('open', () => {
      open = true;
      failures = 0;
      logger.info({ url, actors: actors.size }, 'connected to the Stately inspector');
      for (const message of actors.replay()) ws.send(JSON.stringify(message));
    });
    ws.on('error', (error) => {
      // One warning per outage, not one per retry.
      if (failures++ === 0) logger.warn({ url, err: error.message, retryMs }, 'Stately inspector connection failed; retrying');
    });
    ws.on('close', () => {
      if (open) logger.warn({ url, retryMs }, 'Stately inspector connection closed; retrying');
      open = false;
      if (!stopped) retry = setTimeout(connect, retryMs);
    });
  };

  return {
    /** Actors remembered for the next connection. */
    get size(): number {
      return actors.size;
    },
    start(): void {
      stopped = false;
      connect();
    },
    stop(): void {
      stopped = true;
      clearTimeout(retry);
      socket?.close();
      socket = undefined;
      open = false;
    },
    send(message: InspectionMessage): void {
      actors.remember(message);
      if (open && socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
    },
  };
}
