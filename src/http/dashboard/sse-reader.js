// Server-Sent Events over fetch. `EventSource` cannot send headers, so it cannot carry the API token;
// this reader can. It parses the stream as the SSE specification does and, like EventSource,
// reconnects after an error or the end of the stream, sending `Last-Event-ID` so the server replays
// what was missed.

/**
 * A parser for the text of one SSE stream, fed in pieces as they arrive (a line or a CRLF may be
 * split between two pieces). `push(text)` returns the events completed by that piece, each
 * `{ type, data, id }`; `retry` holds the last `retry:` the server asked for, in ms.
 */
export function eventParser() {
  let pending = '';
  let afterCR = false;
  let type = '';
  let data = [];
  let id = '';
  const parser = { retry: undefined, push };

  function field(line) {
    if (line.startsWith(':')) return; // a comment, such as `: heartbeat`
    const colon = line.indexOf(':');
    const name = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (name === 'event') type = value;
    else if (name === 'data') data.push(value);
    else if (name === 'id' && !value.includes('\0')) id = value;
    else if (name === 'retry' && /^\d+$/.test(value)) parser.retry = Number(value);
  }

  function push(text) {
    if (text === '') return []; // (the decoder gives '' while a character is split between chunks)
    // The LF of a CRLF whose CR ended the previous piece: that line was read already.
    if (afterCR && text.startsWith('\n')) text = text.slice(1);
    pending += text;
    const events = [];
    let start = 0;
    for (let i = 0; i < pending.length; i++) {
      const char = pending[i];
      if (char !== '\n' && char !== '\r') continue;
      const line = pending.slice(start, i);
      if (char === '\r' && pending[i + 1] === '\n') i++;
      start = i + 1;
      if (line !== '') field(line);
      else {
        // A blank line ends the frame; one with no data (only comments, `retry:`) is no event.
        if (data.length > 0) events.push({ type: type || 'message', data: data.join('\n'), id });
        type = '';
        data = [];
      }
    }
    afterCR = pending.endsWith('\r');
    pending = pending.slice(start);
    return events;
  }

  return parser;
}

/**
 * Reads the SSE stream at `url` until `close()`. `headers()` is asked on every (re)connection, so a
 * token given meanwhile is used. `onOpen()` when a stream starts; `onEvent({ type, data, id })` for
 * each event; `onError({ status, retrying })` when a connection fails or ends: `status` is the HTTP
 * status of a refused connection (absent for a network error or the end of the stream). A 4xx
 * answer (but 408 and 429) would be the same on a retry, so the reader stops there; otherwise it
 * reconnects after the server's `retry:` delay (1 s until told), doubled on each failure in a row
 * up to 30 s.
 */
export function readEvents(url, { headers = () => ({}), onOpen = () => {}, onEvent, onError = () => {} }) {
  let lastEventId = '';
  let retryMs = 1_000;
  let failures = 0;
  let closed = false;
  let aborter;
  let timer;

  async function connect() {
    aborter = new AbortController();
    const request = { accept: 'text/event-stream', ...headers() };
    if (lastEventId) request['last-event-id'] = lastEventId;
    let status;
    try {
      const response = await fetch(url, { headers: request, cache: 'no-store', signal: aborter.signal });
      if (!response.ok || !response.body) {
        status = response.status;
        await response.body?.cancel();
      } else {
        await read(response.body);
      }
    } catch {
      // A network error, or the connection dropped: retried below.
    }
    if (closed) return;
    const retrying = status === undefined || status === 408 || status === 429 || status >= 500;
    onError({ status, retrying });
    if (!retrying) return;
    failures++;
    timer = setTimeout(connect, Math.min(retryMs * 2 ** (failures - 1), 30_000));
  }

  async function read(body) {
    onOpen();
    failures = 0;
    const parser = eventParser();
    const decoder = new TextDecoder();
    const reader = body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      const events = parser.push(decoder.decode(value, { stream: true }));
      if (parser.retry !== undefined) retryMs = parser.retry;
      for (const event of events) {
        lastEventId = event.id;
        deliver(event);
      }
    }
  }

  /** A failing handler is reported as any uncaught error is, and does not end the stream. */
  function deliver(event) {
    try {
      onEvent(event);
    } catch (error) {
      if (typeof reportError === 'function') reportError(error);
      else console.error(error);
    }
  }

  connect();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      aborter?.abort();
    },
  };
}
