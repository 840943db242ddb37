import { get, type IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/create-runtime.ts';

const env = { DATABASE_URL: 'sqlite::memory:', PORT: '0', PUBLISH_INTERVAL_SECONDS: '0.1', BATCH_WAIT_MS: '20', LOG_LEVEL: 'silent' };

function open(url: string, headers: Record<string, string> = {}): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => get(url, { headers }, resolve).once('error', reject));
}

/** Reads the stream until `count` events have arrived; returns their ids and the raw text. */
function readEvents(response: IncomingMessage, count: number): Promise<{ ids: number[]; text: string }> {
  return new Promise((resolve) => {
    let text = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      text += chunk;
      const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
      if (ids.length >= count) {
        response.destroy();
        resolve({ ids, text });
      }
    });
  });
}

describe('GET /events on the Node server', () => {
  let runtime: Runtime | undefined;
  afterEach(async () => {
    await runtime?.stop();
  });

  it('streams numbered events straight to the socket, with rate-limit headers, and resumes after Last-Event-ID', async () => {
    runtime = createRuntime({ inheritEnv: false, env });
    const { url } = await runtime.start();
    const first = await open(`${url}/events`);
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(first.headers['x-ratelimit-limit']).toBe('100');
    const { ids, text } = await readEvents(first, 4);
    expect(text.startsWith(': connected\nretry: 2000\n\n')).toBe(true);
    expect(text).toMatch(/id: \d+\nevent: (publisher|subscriber)\ndata: \{"id":"(publisher|subscriber)"/);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));

    const resumed = await open(`${url}/events`, { 'last-event-id': String(ids[1]) });
    const replay = await readEvents(resumed, 2);
    expect(replay.ids[0]).toBe(ids[2]);
    expect(replay.ids[1]).toBe(ids[3]);
  });

  it('filters by actor and forgets a client that disconnects', async () => {
    runtime = createRuntime({ inheritEnv: false, env });
    const { url } = await runtime.start();
    const response = await open(`${url}/events?actor=publisher`);
    const { text } = await readEvents(response, 3);
    expect(text).not.toContain('event: subscriber');
    const deadline = Date.now() + 2_000;
    let clients = '';
    while (Date.now() < deadline) {
      clients = /vigil_sse_clients (\d+)/.exec(await (await fetch(`${url}/metrics`)).text())?.[1] ?? '';
      if (clients === '0') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(clients).toBe('0');
  });
});
