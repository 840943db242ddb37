import type { Hono } from 'hono';

/** A read answered from memory: the JSON value for the path's params, or a thrown `NotFoundError`. */
export type Read = (params: Record<string, string>) => unknown;

/** A hot read matched against a request path. */
export interface HotMatch {
  pattern: string;
  params: Record<string, string>;
  read: Read;
}

interface HotRoute {
  pattern: string;
  /** The pattern's segments; a `:name` segment is a param. */
  segments: string[];
  read: Read;
}

/**
 * The read routes polled hardest (`GET /actors/:id`), declared once as plain functions of their
 * params: `get()` adds each to the Hono app like any route, and `match()` lets the node:http fast
 * path (see fast-path.ts) answer the same route without going through Hono.
 */
export class HotReads {
  readonly #routes: HotRoute[] = [];

  /** Adds `GET pattern` to `app` and to the fast path. Patterns are plain segments and `:params`. */
  get(app: Hono, pattern: string, read: Read): void {
    app.get(pattern, (c) => c.json(read(c.req.param()) as object));
    this.#routes.push({ pattern, segments: pattern.split('/'), read });
  }

  /**
   * The route whose pattern `path` (no query) matches, with its params decoded. Anything the fast
   * path should not second-guess, such as a malformed percent-encoding or an empty param, is left
   * unmatched: Hono then answers it.
   */
  match(path: string): HotMatch | undefined {
    if (this.#routes.length === 0 || path.charCodeAt(0) !== 47 /* / */) return undefined;
    for (const route of this.#routes) {
      const params = matchSegments(route.segments, path);
      if (params) return { pattern: route.pattern, params, read: route.read };
    }
    return undefined;
  }
}

/** Walks `path` segment by segment against the pattern's, without splitting it first. */
function matchSegments(segments: string[], path: string): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  let start = 1;
  for (let i = 1; i < segments.length; i++) {
    if (start > path.length) return undefined;
    let end = path.indexOf('/', start);
    if (end === -1) end = path.length;
    else if (i === segments.length - 1) return undefined;
    const segment = segments[i]!;
    const part = path.slice(start, end);
    start = end + 1;
    if (segment.charCodeAt(0) !== 58 /* : */) {
      if (segment !== part) return undefined;
    } else if (part === '') return undefined;
    else if (!part.includes('%')) params[segment.slice(1)] = part;
    else {
      try {
        params[segment.slice(1)] = decodeURIComponent(part);
      } catch {
        return undefined;
      }
    }
  }
  return start > path.length ? params : undefined;
}
