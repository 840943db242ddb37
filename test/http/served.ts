import { once } from 'node:events';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { httpApp } from './http-app.ts';

/** An HTTP surface built by `httpApp`. */
export type BuiltHttp = ReturnType<typeof httpApp>;

/** Which listener serves a surface: Vigil's own (with its node:http fast path), or the Hono app's alone. */
export type PickListener = (built: BuiltHttp) => RequestListener;
export const vigilListener: PickListener = (built) => built.nodeListener();
export const honoListener: PickListener = (built) => getRequestListener(built.app.fetch);

/** A surface served on 127.0.0.1. */
export interface Served {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Serves `built` through `pick` on a free port; `close` ends its connections, the server and the surface. */
export async function listen(built: BuiltHttp, pick: PickListener): Promise<Served> {
  const server = createServer(pick(built));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await built.close();
    },
  };
}
