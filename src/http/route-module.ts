import type { Hono } from 'hono';
import type { ApiDocs } from './api-docs.ts';
import type { HotReads } from './hot-reads.ts';
import type { HotWrites } from './hot-writes.ts';

/** What every route module registers its routes with. */
export interface RouteTools {
  /** Every route documents itself here (method, path, schemas) for `GET /openapi.json`. */
  docs: ApiDocs;
  /** The hot read routes, answered by the fast path too (see fast-path.ts). */
  hotReads: HotReads;
  /** The hot write routes, answered by the fast path too (see fast-write.ts). */
  hotWrites: HotWrites;
}

/**
 * A route module: adds its routes to the app. What it reads (a store's table, an engine, a
 * concern's port) it was given when it was made, or it declares as the narrow `deps` it takes.
 */
export type RouteModule = (app: Hono, tools: RouteTools) => void;
