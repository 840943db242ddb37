import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';

/** The dashboard's SSE reader is a browser module in plain JS; these are the parts tested here. */
interface SseEvent {
  type: string;
  data: string;
  id: string;
}
interface ReaderModule {
  eventParser(): { push(text: string): SseEvent[]; retry: number | undefined };
  readEvents(
    url: string,
    handlers: {
      headers?: () => Record<string, string>;
      onOpen?: () => void;
      onEvent: (event: SseEvent) => void;
      onError?: (failure: { status?: number; retrying: boolean }) => void;
    },
  ): { close(): void };
}
const modulePath: string = new URL('../../src/http/dashboard/sse-reader.js', import.meta.url).href;
const { eventParser, readEvents } = (await import(modulePath)) as ReaderModule;

const until = async (condition: () => boolean, ms = 5_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

describe('eventParser', () => {
  it('reads fields as the SSE specification does', () => {
    const parser = eventParser();
    const text = [
      ': connected',
      'retry: 2000',
      '',
      'id: 7',
      'event: publisher',
      'data: {"a":1}',
      '',
      'data:no space',
      'data:  two spaces',
      'data',
      '',
      ': heartbeat',
      '',
      'id: 9',
      'event: x',
      '',
      'unknown: field',
      'data: last',
      '',
      'data: unfinished',
    ].join('\n');
    expect(parser.push(text)).toEqual([
      { type: 'publisher', data: '{"a":1}', id: '7' },
      // The id stays until another is given; a frame with no `event:` is a `message`.
      { type: 'message', data: 'no space\n two spaces\n', id: '7' },
      { type: 'message', data: 'last', id: '9' },
    ]);
    expect(parser.retry).toBe(2000);
  });

  it('yields the same events however the stream is cut into pieces and whichever line ends each event uses', () => {
    const line = fc.string({ maxLength: 12 }).filter((s) => !/[\r\n]/.test(s));
    const event = fc.record({
      type: line.filter((s) => s !== '' && !s.startsWith(' ')),
      data: fc.array(line, { minLength: 1, maxLength: 3 }).map((lines) => lines.join('\n')),
      id: fc.nat().map(String),
      comment: fc.boolean(),
      // One kind per event: a CR line end followed by a LF blank line would read as one CRLF.
      eol: fc.constantFrom('\n', '\r\n', '\r'),
    });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), (events, cuts) => {
        let text = '';
        for (const { comment, id, type, data, eol } of events) {
          if (comment) text += `: heartbeat${eol}${eol}`;
          text += `id: ${id}${eol}event: ${type}${eol}`;
          for (const part of data.split('\n')) text += `data: ${part}${eol}`;
          text += eol;
        }
        // Cuts may repeat: an empty piece must change nothing either.
        const at = cuts.map((cut) => cut % (text.length + 1)).sort((a, b) => a - b);
        const parser = eventParser();
        const seen: SseEvent[] = [];
        let from = 0;
        for (const cut of [...at, text.length]) {
          seen.push(...parser.push(text.slice(from, cut)));
          from = cut;
        }
        expect(seen).toEqual(events.map(({ type, data, id }) => ({ type, data, id })));
      }),
      { numRuns: 300 },
    );
  });
});

describe('readEvents', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      server.close();
    }
  });

  /** A server answering `/events` with `respond(headers, res, n)` for its n-th connection (0 first). */
  async function serve(respond: (headers: IncomingHttpHeaders, res: ServerResponse, n: number) => void): Promise<{ url: string; requests: IncomingHttpHeaders[] }> {
    const requests: IncomingHttpHeaders[] = [];
    const server = createServer((req, res) => {
      requests.push(req.headers);
      respond(req.headers, res, requests.length - 1);
    });
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`, requests };
  }

  const stream = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'text/event-stream' });

  it('sends its headers, reconnects after the stream ends with Last-Event-ID, and misses nothing', async () => {
    const { url, requests } = await serve((_headers, res, n) => {
      stream(res);
      if (n === 0) res.end(': connected\nretry: 20\n\nid: 1\nevent: a\ndata: {"n":1}\n\n: heartbeat\n\nid: 2\nevent: b\ndata: {"n":2}\n\n');
      else res.write('id: 3\nevent: a\ndata: {"n":3}\n\n');
    });
    const events: SseEvent[] = [];
    const log: string[] = [];
    const reader = readEvents(url, {
      headers: () => ({ authorization: 'Bearer t0ken' }),
      onOpen: () => log.push('open'),
      onEvent: (event) => events.push(event),
      onError: ({ status, retrying }) => log.push(`error ${status} ${retrying}`),
    });
    await until(() => events.length === 3);
    reader.close();
    expect(events.map((e) => [e.id, e.type, e.data])).toEqual([
      ['1', 'a', '{"n":1}'],
      ['2', 'b', '{"n":2}'],
      ['3', 'a', '{"n":3}'],
    ]);
    expect(log).toEqual(['open', 'error undefined true', 'open']);
    expect(requests.map((h) => [h.authorization, h['last-event-id'], h.accept])).toEqual([
      ['Bearer t0ken', undefined, 'text/event-stream'],
      ['Bearer t0ken', '2', 'text/event-stream'],
    ]);
  });

  it('stops at a 401, since asking again with the same token cannot succeed', async () => {
    const { url, requests } = await serve((_headers, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"code":"UNAUTHORIZED"}');
    });
    const failures: Array<{ status?: number; retrying: boolean }> = [];
    const reader = readEvents(url, { onEvent: () => {}, onError: (failure) => failures.push(failure) });
    await until(() => failures.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    reader.close();
    expect(failures).toEqual([{ status: 401, retrying: false }]);
    expect(requests).toHaveLength(1);
  });

  it('retries a failed connection, and close() ends it for good', async () => {
    const { url, requests } = await serve((_headers, res, n) => {
      if (n === 0) {
        res.writeHead(503);
        res.end();
        return;
      }
      stream(res);
      res.write('retry: 10\n\n');
      res.end();
    });
    const log: string[] = [];
    const reader = readEvents(url, { onOpen: () => log.push('open'), onEvent: () => {}, onError: ({ status, retrying }) => log.push(`error ${status} ${retrying}`) });
    // The server counts a request before the reader has seen its answer: wait for both.
    await until(() => requests.length >= 3 && log.length >= 4);
    reader.close();
    const seen = requests.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(requests.length).toBe(seen);
    expect(log.slice(0, 4)).toEqual(['error 503 true', 'open', 'error undefined true', 'open']);
  });
});
