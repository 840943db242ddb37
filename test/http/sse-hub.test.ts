import fc from 'fast-check';
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
    hub = new SseHub(changes, logger, { coalesce: false });
    const reader = hub.connect().getReader();
    changes.next(change('a', 1));
    changes.next(change('b', 2));
    const text = await readUntil(reader, (t) => t.includes('event: b'));
    expect(text).toContain('id: 1\nevent: a\ndata: {"id":"a","kind":"a","status":"active","value":"running","context":{"n":1}}\n\n');
    expect(text).toContain('id: 2\nevent: b\n');
  });

  it('sends only the filtered actor', async () => {
    hub = new SseHub(changes, logger, { coalesce: false });
    const reader = hub.connect({ actor: 'b' }).getReader();
    changes.next(change('a', 1));
    changes.next(change('b', 2));
    const text = await readUntil(reader, (t) => t.includes('event: b'));
    expect(text).not.toContain('event: a');
  });

  it('resumes after Last-Event-ID from the bounded history', async () => {
    hub = new SseHub(changes, logger, { historySize: 3, coalesce: false });
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
    hub = new SseHub(changes, logger, { coalesce: false });
    const reader = hub.connect().getReader();
    await vi.advanceTimersByTimeAsync(15_000);
    expect(await readUntil(reader, (t) => t.includes(': heartbeat'))).toContain(': heartbeat\n\n');
  });

  it('drops a client that stops reading instead of buffering without bound', async () => {
    hub = new SseHub(changes, logger, { maxQueuedBytes: 4_096, coalesce: false });
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

  it('sends nothing for a snapshot with the same status, state and context as the last one sent', async () => {
    hub = new SseHub(changes, logger, { coalesce: false });
    const reader = hub.connect().getReader();
    const first = change('a', 1);
    changes.next(first);
    changes.next(first);
    changes.next(change('a', 1));
    changes.next({ ...change('a', 1), snapshot: { ...change('a', 1).snapshot, value: { running: 'polling' } } });
    changes.next({ ...change('a', 1), snapshot: { ...change('a', 1).snapshot, value: { running: 'polling' } } });
    changes.next({ ...change('a', 1), snapshot: { ...change('a', 1).snapshot, status: 'error' } as unknown as ActorChange['snapshot'] });
    changes.next(change('b', 1));
    const text = await readUntil(reader, (t) => t.includes('event: b'));
    expect(text.match(/^id: \d+$/gm)).toEqual(['id: 1', 'id: 2', 'id: 3', 'id: 4']);
    expect(text).toContain('id: 2\nevent: a\ndata: {"id":"a","kind":"a","status":"active","value":{"running":"polling"}');
    expect(text).toContain('id: 3\nevent: a\ndata: {"id":"a","kind":"a","status":"error"');
  });

  it('sends what changed, in order, for any sequence of snapshots (repeats of an actor’s last one dropped)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: 0, max: 2 })), { maxLength: 40 }), async (sequence) => {
        const local = new Subject<ActorChange>();
        const each = new SseHub(local, logger, { coalesce: false });
        const reader = each.connect().getReader();
        const last = new Map<string, number>();
        const expected: string[] = [];
        for (const [actor, n] of sequence) {
          local.next(change(actor, n));
          if (last.get(actor) !== n) expected.push(`${actor}:${n}`);
          last.set(actor, n);
        }
        local.next(change('end', 0));
        const text = await readUntil(reader, (t) => t.includes('event: end'));
        each.close();
        const got = [...text.matchAll(/event: (\w+)\ndata: .*"n":(\d+)/g)].map(([, a, n]) => `${a}:${n}`).filter((e) => !e.startsWith('end'));
        expect(got).toEqual(expected);
      }),
      { numRuns: 100 },
    );
    hub = new SseHub(changes, logger, { coalesce: false });
  });

  it('sends child actors only to clients that ask for them (include=children)', async () => {
    hub = new SseHub(changes, logger, { coalesce: false });
    const plain = hub.connect().getReader();
    const withChildren = hub.connect({ children: true }).getReader();
    const child = (status: string) => ({ getSnapshot: () => ({ status, output: undefined, error: undefined }) });
    const parent = (n: number, status: string) => ({ ...change('notifier', n), snapshot: { ...change('notifier', n).snapshot, children: { claim: child(status) } } as unknown as ActorChange['snapshot'] });
    changes.next(parent(1, 'active'));
    changes.next(parent(2, 'done'));
    changes.next(change('end', 0));
    const all = await readUntil(withChildren, (t) => t.includes('event: end'));
    expect(all).toContain('event: notifier/claim\ndata: {"id":"notifier/claim","kind":"notifier.child","status":"active","value":null,"context":null}');
    expect(all).toContain('event: notifier/claim\ndata: {"id":"notifier/claim","kind":"notifier.child","status":"done"');
    const some = await readUntil(plain, (t) => t.includes('event: end'));
    expect(some).toContain('event: notifier\n');
    expect(some).not.toContain('notifier/claim');
  });

  it('coalesces an actor’s changes within one turn of the event loop: a poll that ends where it began sends nothing', async () => {
    vi.useRealTimers();
    hub = new SseHub(changes, logger);
    const reader = hub.connect().getReader();
    const state = (value: unknown) => ({ ...change('notifier', 1), snapshot: { ...change('notifier', 1).snapshot, value } });
    changes.next(state({ running: 'waiting' }));
    await new Promise((resolve) => setImmediate(resolve));
    // One poll: claiming, then waiting again, in the same turn.
    changes.next(state({ running: { claiming: 'inFlight' } }));
    changes.next(state({ running: 'waiting' }));
    changes.next(change('a', 1));
    changes.next(change('a', 2));
    changes.next(change('end', 0));
    const text = await readUntil(reader, (t) => t.includes('event: end'));
    expect([...text.matchAll(/event: (\S+)/g)].map(([, id]) => id)).toEqual(['notifier', 'a', 'end']);
    expect(text).toContain('"value":{"running":"waiting"}');
    expect(text).not.toContain('claiming');
    expect(text).toContain('"context":{"n":2}');
  });
});
