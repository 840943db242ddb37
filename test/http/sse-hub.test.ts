import { pino } from 'pino';
import { Subject } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SseHub } from '../../src/http/sse-hub.ts';
import type { ActorChange } from '../../src/runtime/registry.ts';

const change = (actorId: string, n: number): ActorChange => ({
  actorId,
  kind: actorId,
  snapshot: { status: 'active', value: 'running', context: { n }, output: undefined, error: undefined } as ActorChange['snapshot'],
});

async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, done: (text: string) => boolean): Promise<string> {
  let text = '';
  while (!done(text)) {
    const chunk = await reader.read();
    if (chunk.done) break;
    text += new TextDecoder().decode(chunk.value);
  }
  return text;
}

describe('SseHub', () => {
  const logger = pino({ level: 'silent' });
  let changes: Subject<ActorChange>;
  let hub: SseHub;
  beforeEach(() => {
    vi.useFakeTimers();
    changes = new Subject();
  });
  afterEach(() => {
    hub.close();
    vi.useRealTimers();
  });

  it('numbers every event and names it after its actor', async () => {
    hub = new SseHub(changes, logger);
    const reader = hub.connect().getReader();
    changes.next(change('a', 1));
    changes.next(change('b', 2));
    const text = await readUntil(reader, (t) => t.includes('event: b'));
    expect(text).toContain('id: 1\nevent: a\ndata: {"id":"a","kind":"a","status":"active","value":"running","context":{"n":1}}\n\n');
    expect(text).toContain('id: 2\nevent: b\n');
  });

  it('sends only the filtered actor', async () => {
    hub = new SseHub(changes, logger);
    const reader = hub.connect({ actor: 'b' }).getReader();
    changes.next(change('a', 1));
    changes.next(change('b', 2));
    const text = await readUntil(reader, (t) => t.includes('event: b'));
    expect(text).not.toContain('event: a');
  });

  it('resumes after Last-Event-ID from the bounded history', async () => {
    hub = new SseHub(changes, logger, { historySize: 3 });
    for (let n = 1; n <= 5; n++) changes.next(change('a', n));
    const text = await readUntil(hub.connect({ lastEventId: 3 }).getReader(), (t) => t.includes('id: 5'));
    expect(text).not.toContain('id: 3\n');
    expect(text).toContain('id: 4\n');
    expect(text).toContain('id: 5\n');
    const trimmed = await readUntil(hub.connect({ lastEventId: 0 }).getReader(), (t) => t.includes('id: 5'));
    expect(trimmed).not.toContain('id: 2\n');
    expect(trimmed).toContain('id: 3\n');
  });

  it('sends a heartbeat comment every 15 s', async () => {
    hub = new SseHub(changes, logger);
    const reader = hub.connect().getReader();
    await vi.advanceTimersByTimeAsync(15_000);
    expect(await readUntil(reader, (t) => t.includes(': heartbeat'))).toContain(': heartbeat\n\n');
  });

  it('drops a client that stops reading instead of buffering without bound', async () => {
    hub = new SseHub(changes, logger, { maxQueuedBytes: 4_096 });
    hub.connect();
    const reader = hub.connect().getReader();
    expect(hub.clients).toBe(2);
    for (let n = 0; n < 200; n++) {
      changes.next(change('a', n));
      await reader.read();
    }
    expect(hub.clients).toBe(1);
    expect(hub.dropped).toBe(1);
  });
});
