import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { ConfigError } from '../errors.ts';
import { timeLeft } from './shutdown-budget.ts';

/** Listen errors that mean HOST names no address of this machine. */
const UNKNOWN_HOST = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EADDRNOTAVAIL']);

/** A listening server: its URL, and `stop`, which closes it by a deadline. */
export interface Listening {
  url: string;
  name: string;
  stop(deadline: number): Promise<void>;
}

/** What a listen failure means for the settings: PORT taken or not allowed, HOST not of this machine. */
function listenError(error: NodeJS.ErrnoException, host: string, port: number): Error {
  if (error.code === 'EADDRINUSE' || error.code === 'EACCES') {
    return new ConfigError(`PORT: ${host}:${port} cannot be used (${error.code}); set PORT to a free port, or 0 for any`, 'PORT');
  }
  if (UNKNOWN_HOST.has(error.code ?? '')) {
    return new ConfigError(`HOST: ${host} is not an address of this machine (${error.code}); set HOST to 127.0.0.1, 0.0.0.0 or a local address`, 'HOST');
  }
  return error;
}

/** Serves `listener` on HOST:PORT; a bad address or port rejects with a ConfigError naming the setting. */
export function listen(listener: RequestListener, at: { host: string; port: number }, onClientError: (error: Error, socket: Duplex) => void): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const server = createServer(listener);
    server.on('clientError', onClientError);
    server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, at.host, at.port)));
    server.listen(at.port, at.host, () =>
      resolve({ url: `http://${at.host}:${(server.address() as AddressInfo).port}`, name: 'http', stop: (deadline) => closeServer(server, deadline) }),
    );
  });
}

/** Closes the server; connections still open at the deadline (SSE, a slow request) are cut. */
function closeServer(server: Server, deadline: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), timeLeft(deadline));
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}
