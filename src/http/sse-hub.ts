import type { Observable, Subscription } from 'rxjs';
import { viewOfSnapshot, type ActorChange } from '../runtime/registry.ts';
import type { Logger } from '../runtime/logger.ts';
import { ticks } from '../streams/ticks.ts';

export interface SseHubOptions {
  /** A `: heartbeat` comment is sent this often so proxies keep the connection (default 15 s). */
  heartbeatMs?: number;
  /** Changes kept for `Last-Event-ID` resumption (default 1000). */
  historySize?: number;
  /** A client with this many bytes unread is dropped rather than buffered without bound (default 1 MiB). */
  maxQueuedBytes?: number;
  /**
   * Publish each actor's latest snapshot once per turn of the event loop (setImmediate) rather than
   * every intermediate one (default true): a poll that goes `waiting → claiming → waiting` within one
   * turn then sends nothing, as its state and context end where they were.
   */
  coalesce?: boolean;
}

/**
 * Where a client's frames go: a web stream (any runtime) or a Node response written directly. `write`
 * returns false when the client has `maxQueuedBytes` unread, and the hub then drops it.
 */
interface Client {
  filter: string | undefined;
  /** Whether the client asked for child actors' changes too (`?include=children`). */
  children: boolean;
  write(chunk: Uint8Array): boolean;
  close(): void;
}

/** The part of a Node `ServerResponse` the hub writes to (headers already sent by the caller). */
export interface SseSink {
  write(chunk: Uint8Array): boolean;
  end(): void;
  readonly writableLength: number;
  once(event: 'close', listener: () => void): unknown;
}

interface Entry {
  id: number;
  change: ActorChange;
  /** A child actor's change (`parent/child`), sent only to clients that asked for children. */
  child: boolean;
  /** The event's data (JSON), when it was needed to tell a change from a repeat. */
  data?: string;
  frame?: Uint8Array;
}

/** What a client asks for: one actor, child actors too, and where to resume. */
export interface SseConnectOptions {
  actor?: string;
  lastEventId?: number;
  children?: boolean;
}

/** The last snapshot sent of an actor: its parts by reference, and its data once serialized. */
interface Sent {
  status: string;
  value: unknown;
  context: unknown;
  data?: string;
}

type ChildRef = { getSnapshot(): ActorChange['snapshot'] };

const encoder = new TextEncoder();
const HEARTBEAT = encoder.encode(': heartbeat\n\n');
const CONNECTED = encoder.encode(': connected\nretry: 2000\n\n');

/**
 * Fans actor changes out to Server-Sent Events clients. Each change is serialized once, however
 * many clients there are, and only when some client wants it; the history holds references.
 */
export class SseHub {
  readonly #clients = new Set<Client>();
  readonly #history: Entry[] = [];
  readonly #options: Required<SseHubOptions>;
  readonly #logger: Logger;
  readonly #subscriptions: Subscription[] = [];
  /** Per actor, what was last published: a snapshot with the same state and context is not sent again. */
  readonly #sent = new Map<string, Sent>();
  /** Changes waiting for the end of this turn of the event loop, latest per actor (with `coalesce`). */
  readonly #pending = new Map<string, ActorChange>();
  #flush: NodeJS.Immediate | undefined;
  #childClients = 0;
  #nextId = 1;
  #dropped = 0;

  constructor(changes: Observable<ActorChange>, logger: Logger, options: SseHubOptions = {}) {
    this.#options = { heartbeatMs: 15_000, historySize: 1_000, maxQueuedBytes: 1 << 20, coalesce: true, ...options };
    this.#logger = logger;
    this.#subscriptions.push(changes.subscribe((change) => (this.#options.coalesce ? this.#defer(change) : this.#publish(change))));
    this.#subscriptions.push(ticks(this.#options.heartbeatMs).subscribe(() => this.#broadcast(HEARTBEAT)));
  }

  /** Connected clients. */
  get clients(): number {
    return this.#clients.size;
  }

  /** Clients dropped for reading too slowly, since start. */
  get dropped(): number {
    return this.#dropped;
  }

  /** A new client's stream: first the history after `lastEventId` (when given), then live changes. */
  connect(options: SseConnectOptions = {}): ReadableStream<Uint8Array> {
    let client: Client;
    return new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          client = {
            filter: options.actor,
            children: options.children === true,
            write: (chunk) => {
              if (controller.desiredSize !== null && controller.desiredSize <= 0) return false;
              controller.enqueue(chunk);
              return true;
            },
            close: () => controller.close(),
          };
          this.#open(client, options.lastEventId);
        },
        cancel: () => this.#leave(client),
      },
      { highWaterMark: this.#options.maxQueuedBytes, size: (chunk) => chunk.byteLength },
    );
  }

  /**
   * Streams to a Node response whose SSE headers the caller has sent: frames are written straight to
   * the socket, with no web-stream reader in between (measured: the reader loop of @hono/node-server
   * costs more than the rest of the fan-out). The client leaves when the response closes.
   */
  attach(sink: SseSink, options: SseConnectOptions = {}): void {
    const maxQueued = this.#options.maxQueuedBytes;
    const client: Client = {
      filter: options.actor,
      children: options.children === true,
      write: (chunk) => {
        if (sink.writableLength > maxQueued) return false;
        sink.write(chunk);
        return true;
      },
      close: () => sink.end(),
    };
    sink.once('close', () => this.#leave(client));
    this.#open(client, options.lastEventId);
  }

  /** Ends every client stream and stops listening. */
  close(): void {
    for (const subscription of this.#subscriptions) subscription.unsubscribe();
    clearImmediate(this.#flush);
    this.#pending.clear();
    for (const client of this.#clients) {
      try {
        client.close();
      } catch {
        // Already closed by the client going away.
      }
    }
    this.#clients.clear();
    this.#childClients = 0;
  }

  #open(client: Client, lastEventId: number | undefined): void {
    client.write(CONNECTED);
    if (lastEventId !== undefined) {
      for (const entry of this.#history) if (entry.id > lastEventId) this.#send(client, entry);
    }
    this.#clients.add(client);
    if (client.children) this.#childClients += 1;
  }

  #defer(change: ActorChange): void {
    // Re-inserted so the flush keeps the order of each actor's latest change.
    this.#pending.delete(change.actorId);
    this.#pending.set(change.actorId, change);
    this.#flush ??= setImmediate(() => {
      this.#flush = undefined;
      const changes = [...this.#pending.values()];
      this.#pending.clear();
      for (const each of changes) this.#publish(each);
    });
  }

  #leave(client: Client): void {
    if (this.#clients.delete(client) && client.children) this.#childClients -= 1;
  }

  #publish(change: ActorChange, child = false): void {
    const entry: Entry = { id: 0, change, child };
    if (!this.#changed(entry)) return;
    entry.id = this.#nextId++;
    this.#history.push(entry);
    if (this.#history.length > this.#options.historySize) this.#history.shift();
    for (const client of this.#clients) this.#send(client, entry);
    if (!child && this.#childClients > 0) this.#publishChildren(change);
  }

  /**
   * Whether `entry` differs from what was last published of its actor (status, state value,
   * context). The same references mean no change at once; otherwise the data is serialized and
   * compared, but only while some client listens: with none, nothing is serialized (rule actors
   * change at reading rate) and the memory of what was sent is dropped, so no change is lost later.
   */
  #changed(entry: Entry): boolean {
    const { actorId, snapshot } = entry.change;
    const last = this.#sent.get(actorId);
    if (last && last.status === snapshot.status && last.value === snapshot.value && last.context === snapshot.context) return false;
    if (this.#clients.size === 0) {
      this.#sent.clear();
      return true;
    }
    entry.data = dataOf(entry.change);
    if (last?.data === entry.data) return false;
    // A child that ended is not heard of again: forget it, so short-lived children do not accumulate.
    if (entry.child && snapshot.status !== 'active') this.#sent.delete(actorId);
    else this.#sent.set(actorId, { status: snapshot.status, value: snapshot.value, context: snapshot.context, data: entry.data });
    return true;
  }

  /** The children of a changed actor (`parent/child`), for clients that asked for them. */
  #publishChildren(parent: ActorChange): void {
    const children = (parent.snapshot as { children?: Record<string, ChildRef> }).children ?? {};
    for (const [id, ref] of Object.entries(children)) {
      this.#publish({ actorId: `${parent.actorId}/${id}`, kind: `${parent.kind}.child`, snapshot: ref.getSnapshot() }, true);
    }
  }

  #send(client: Client, entry: Entry): void {
    if (entry.child && !client.children) return;
    if (client.filter && client.filter !== entry.change.actorId && !(entry.child && entry.change.actorId.startsWith(`${client.filter}/`))) return;
    this.#enqueue(client, (entry.frame ??= frameOf(entry)));
  }

  #broadcast(chunk: Uint8Array): void {
    for (const client of this.#clients) this.#enqueue(client, chunk);
  }

  #enqueue(client: Client, chunk: Uint8Array): void {
    if (client.write(chunk)) return;
    this.#leave(client);
    this.#dropped += 1;
    this.#logger.warn({ filter: client.filter, queuedBytes: this.#options.maxQueuedBytes }, 'sse client dropped: reading too slowly');
    try {
      client.close();
    } catch {
      // The client is gone already.
    }
  }
}

const dataOf = ({ actorId, kind, snapshot }: ActorChange): string => JSON.stringify(viewOfSnapshot(actorId, kind, snapshot, true));

function frameOf(entry: Entry): Uint8Array {
  const data = entry.data ?? dataOf(entry.change);
  return encoder.encode(`id: ${entry.id}\nevent: ${entry.change.actorId}\ndata: ${data}\n\n`);
}
