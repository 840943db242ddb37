import type { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { invalidJson } from './json-body.ts';

/** What a write answers: its status and its JSON body. */
export interface WriteAnswer {
  status: ContentfulStatusCode;
  body: object;
}

/** A write of a request's JSON body (parsed, not yet validated); failures are thrown as typed errors (errors.ts). */
export type Write = (body: unknown) => Promise<WriteAnswer>;

/** A hot write matched against a request path. */
export interface HotWriteMatch {
  pattern: string;
  write: Write;
}

/**
 * The write routes posted to hardest (`POST /readings`), declared once as functions of the JSON
 * body: `post()` adds each to the Hono app like any route, and `match()` lets the node:http fast
 * path (see fast-write.ts) answer the same route without building a web `Request` and `Response`.
 */
export class HotWrites {
  readonly #routes = new Map<string, Write>();

  /** Adds `POST path` to `app` and to the fast path. The path is literal: no `:params`, no wildcard. */
  post(app: Hono, path: string, write: Write): void {
    if (/[:*]/.test(path)) throw new Error(`a hot write's path is literal; got ${path}`);
    app.post(path, async (c) => {
      let body: unknown;
      try {
        body = await c.req.raw.json();
      } catch {
        throw invalidJson();
      }
      const answer = await write(body);
      return c.json(answer.body, answer.status);
    });
    this.#routes.set(path, write);
  }

  /** The route of `path` (no query), if it is a hot write's. */
  match(path: string): HotWriteMatch | undefined {
    const write = this.#routes.get(path);
    return write && { pattern: path, write };
  }
}
