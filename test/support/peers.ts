import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** How the HTTP peer answers the next requests. */
export type PeerMode = 200 | 400 | 429 | 503 | 'hang' | 'drop';

/** A request the HTTP peer received. */
export interface PeerRequest {
  method: string;
  path: string;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
  at: number;
}

/** A local HTTP server standing in for Slack, a webhook or the propagator's endpoint. */
export interface HttpPeer {
  url: string;
  requests: PeerRequest[];
  /** Answers by path (`/health`), else `mode`. */
  mode: PeerMode;
  modes: Map<string, PeerMode>;
  /** Called with each request as it arrives, before it is answered. */
  onRequest?: (request: PeerRequest) => void;
  close(): Promise<void>;
}

/** Starts an HTTP peer on 127.0.0.1 (random port) answering 200 until told otherwise. */
export async function startHttpPeer(): Promise<HttpPeer> {
  const hanging = new Set<ServerResponse>();
  const peer: HttpPeer = { url: '', requests: [], mode: 200, modes: new Map(), close: async () => {} };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      const path = req.url ?? '/';
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        // Not JSON: keep the text.
      }
      const request = { method: req.method ?? 'GET', path, body, headers: req.headers, at: Date.now() };
      peer.requests.push(request);
      peer.onRequest?.(request);
      const mode = peer.modes.get(path) ?? peer.mode;
      if (mode === 'hang') {
        hanging.add(res);
        return;
      }
      if (mode === 'drop') {
        req.socket.destroy();
        return;
      }
      res.writeHead(mode, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: mode === 200 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  peer.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  peer.close = () =>
    new Promise((resolve) => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return peer;
}

/** An email the SMTP peer accepted. */
export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  at: number;
}

/** A local SMTP server (smtp-server) that accepts mail, or refuses it with `refuse` while set. */
export interface SmtpPeer {
  port: number;
  mails: ReceivedMail[];
  /** While set, every message is refused with this SMTP reply code. */
  refuse: number | null;
  /** Starts listening (again) on `port`. */
  listen(): Promise<void>;
  close(): Promise<void>;
  onMail?: (mail: ReceivedMail) => void;
}

/** Creates an SMTP peer on 127.0.0.1; `port` 0 picks a free one. Call `listen()` to start it. */
export function smtpPeer(port = 0): SmtpPeer {
  let server: SMTPServer | undefined;
  const peer: SmtpPeer = {
    port,
    mails: [],
    refuse: null,
    async listen() {
      server = new SMTPServer({
        authOptional: true,
        disabledCommands: ['STARTTLS', 'AUTH'],
        disableReverseLookup: true,
        logger: false,
        onData(stream, session, callback) {
          let raw = '';
          stream.on('data', (chunk: Buffer) => (raw += chunk.toString()));
          stream.on('end', () => {
            if (peer.refuse !== null) {
              const error = Object.assign(new Error('mailbox unavailable'), { responseCode: peer.refuse });
              callback(error);
              return;
            }
            const mail = {
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((r) => r.address),
              raw,
              at: Date.now(),
            };
            peer.mails.push(mail);
            peer.onMail?.(mail);
            callback();
          });
        },
      });
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(peer.port, '127.0.0.1', () => resolve());
      });
      peer.port = (server.server.address() as AddressInfo).port;
    },
    close() {
      const current = server;
      server = undefined;
      return new Promise((resolve) => (current ? current.close(() => resolve()) : resolve()));
    },
  };
  return peer;
}

/** A free TCP port on 127.0.0.1 (nothing listens on it once this resolves). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
