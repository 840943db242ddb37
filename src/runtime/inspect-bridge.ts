import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { ConfigError } from '../errors.ts';
import { ActorMemory, type InspectionMessage } from './inspect-memory.ts';
import type { Logger } from './logger.ts';

/** The inspector web app the bridge page embeds (as `@statelyai/inspect/server` does). */
export const STATELY_INSPECTOR_URL = 'https://stately.ai/inspect';

/** Options of `createInspectorBridge`. */
export interface InspectorBridgeOptions {
  host: string;
  port: number;
  logger: Logger;
  inspectorUrl?: string;
}

/**
 * The page a viewer opens: the Stately inspector in a frame, fed with what the bridge's WebSocket
 * (the page's own address, ws://) sends, held back until the inspector says it is ready — the
 * protocol of `@statelyai/inspect/server`'s own page.
 */
function bridgePage(inspectorUrl: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Vigil in the Stately inspector</title>
<style>* { margin: 0; padding: 0; } html, body { height: 100%; } iframe { width: 100%; height: 100%; border: none; }</style></head>
<body>
<iframe id="inspector" src="${inspectorUrl}"></iframe>
<script>
  const frame = document.getElementById('inspector');
  const held = [];
  let ready = false;
  window.addEventListener('message', (e) => {
    if (e.data && e.data.type === '@statelyai.connected') {
      ready = true;
      for (const event of held.splice(0)) frame.contentWindow.postMessage(event, '*');
    }
  });
  const url = new URL('.', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(url);
  ws.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (ready) frame.contentWindow.postMessage(event, '*');
    else held.push(event);
  };
</script>
</body>
</html>`;
}

/**
 * Vigil's own inspector bridge (INSPECT_PORT): an HTTP page embedding the Stately inspector and a
 * WebSocket on the same port. Each viewer that connects is first sent every live actor's definition
 * and current snapshot (one entry per actor, however long Vigil has run: see ActorMemory), then
 * every message as it happens. Unlike `@statelyai/inspect/server`, which replays its last 200
 * messages, a viewer that joins late draws every machine. Viewers only listen: what they send is ignored.
 */
export function createInspectorBridge({ host, port, logger, inspectorUrl = STATELY_INSPECTOR_URL }: InspectorBridgeOptions) {
  const memory = new ActorMemory();
  const page = bridgePage(inspectorUrl);
  let server: Server | undefined;
  let sockets: WebSocketServer | undefined;

  return {
    /** Listens; resolves with the page's URL. */
    async start(): Promise<string> {
      server = createServer((req, res) => {
        if (req.method !== 'GET' || (req.url ?? '/').split('?')[0] !== '/') return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: the inspector page is /\n');
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' }).end(page);
      });
      sockets = new WebSocketServer({ server });
      sockets.on('connection', (ws) => {
        for (const message of memory.replay()) ws.send(JSON.stringify(message));
        logger.info({ viewers: sockets?.clients.size, actors: memory.size }, 'inspector viewer connected');
      });
      const listening = server;
      await new Promise<void>((resolve, reject) => {
        listening.once('error', (error: NodeJS.ErrnoException) =>
          reject(error.code === 'EADDRINUSE' || error.code === 'EACCES' ? new ConfigError(`INSPECT_PORT: ${host}:${port} cannot be used (${error.code}); set INSPECT_PORT to a free port`, 'INSPECT_PORT') : error),
        );
        listening.listen(port, host, resolve);
      });
      const url = `http://${host}:${(listening.address() as AddressInfo).port}/`;
      logger.info({ url }, 'inspector bridge listening: open it in a browser to see every machine in the Stately inspector');
      return url;
    },
    async stop(): Promise<void> {
      for (const ws of sockets?.clients ?? []) ws.terminate();
      await new Promise((resolve) => (sockets ? sockets.close(resolve) : resolve(undefined)));
      await new Promise((resolve) => (server?.listening ? server.close(resolve) : resolve(undefined)));
    },
    send(message: InspectionMessage): void {
      memory.remember(message);
      if (!sockets || sockets.clients.size === 0) return;
      const text = JSON.stringify(message);
      for (const ws of sockets.clients) if (ws.readyState === WebSocket.OPEN) ws.send(text);
    },
  };
}
