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
}

/**
 * Where a client's frames go: a web stream (any runtime) or a Node response written directly. `write`
 * returns false when the client has `maxQueuedBytes` unread, and the hub then drops it.
 */
interface Client {
  filter: string | undefined;
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
  frame?: Uint8Array;
}

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
  #nextId = 1;
  #dropped = 0;

  constructor(changes: Observable<ActorChange>, logger: Logger, options: SseHubOptions = {}) {
    this.#options = { heartbeatMs: 15_000, historySize: 1_000, maxQueuedBytes: 1 << 20, ...options };
    this.#logger = logger;
    this.#subscriptions.push(changes.subscribe((change) => this.#publish(change)));
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
  connect(options: { actor?: string; lastEventId?: number } = {}): ReadableStream<Uint8Array> {
    let client: Client;
    return new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          client = {
            filter: options.actor,
            write: (chunk) => {
              if (controller.desiredSize !== null && controller.desiredSize <= 0) return false;
              controller.enqueue(chunk);
              return true;
            },
            close: () => controller.close(),
          };
          this.#open(client, options.lastEventId);
        },
        cancel: () => {
          this.#clients.delete(client);
        },
      },
      { highWaterMark: this.#options.maxQueuedBytes, size: (chunk) => chunk.byteLength },
    );
  }

  /**
   * Streams to a Node response whose SSE headers the caller has sent: frames are written straight to
   * the socket, with no web-stream reader in between (measured: the reader loop of @hono/node-server
   * costs more than the rest of the fan-out). The client leaves when the response closes.
   */
  attach(sink: SseSink, options: { actor?: string; lastEventId?: number } = {}): void {
    const maxQueued = this.#options.maxQueuedBytes;
    const client: Client = {
      filter: options.actor,
      write: (chunk) => {
        if (sink.writableLength > maxQueued) return false;
        sink.write(chunk);
        return true;
      },
      close: () => sink.end(),
    };
    sink.once('close', () => this.#clients.delete(client));
    this.#open(client, options.lastEventId);
  }

  /** Ends every client stream and stops listening. */
  close(): void {
    for (const subscription of this.#subscriptions) subscription.unsubscribe();
    for (const client of this.#clients) {
      try {
        client.close();
      } catch {
        // Already closed by the client going away.
      }
    }
    this.#clients.clear();
  }

  #open(client: Client, lastEventId: number | undefined): void {
    client.write(CONNECTED);
    if (lastEventId !== undefined) {
      for (const entry of this.#history) if (entry.id > lastEventId) this.#send(client, entry);
    }
    this.#clients.add(client);
  }

  #publish(change: ActorChange): void {
    const entry: Entry = { id: this.#nextId++, change };
    this.#history.push(entry);
    if (this.#history.length > this.#options.historySize) this.#history.shift();
    for (const client of this.#clients) this.#send(client, entry);
  }

  #send(client: Client, entry: Entry): void {
    if (client.filter && client.filter !== entry.change.actorId) return;
    this.#enqueue(client, (entry.frame ??= frameOf(entry)));
  }

  #broadcast(chunk: Uint8Array): void {
    for (const client of this.#clients) this.#enqueue(client, chunk);
  }

  #enqueue(client: Client, chunk: Uint8Array): void {
    if (client.write(chunk)) return;
    this.#clients.delete(client);
    this.#dropped += 1;
    this.#logger.warn({ filter: client.filter, queuedBytes: this.#options.maxQueuedBytes }, 'sse client dropped: reading too slowly');
    try {
      client.close();
    } catch {
      // The client is gone already.
    }
  }
}

function frameOf(entry: Entry): Uint8Array {
  const { actorId, kind, snapshot } = entry.change;
  const data = JSON.stringify(viewOfSnapshot(actorId, kind, snapshot, true));
  return encoder.encode(`id: ${entry.id}\nevent: ${actorId}\ndata: ${data}\n\n`);
}
