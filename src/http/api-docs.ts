import type { z } from 'zod';

/** What a route says of itself: enough to validate its input and to document it in OpenAPI. */
export interface RouteDoc {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Hono path syntax (`/rules/:id`). */
  path: string;
  summary: string;
  tag: string;
  body?: z.ZodType;
  query?: z.ZodType;
  /** The success response's schema, when it is worth documenting. */
  response?: z.ZodType;
}

/** The routes documented so far; `GET /openapi.json` is generated from it, from the same schemas that validate. */
export class ApiDocs {
  readonly routes: RouteDoc[] = [];

  /** Records a route's documentation and returns it, so a route module can declare and use it in one place. */
  add<D extends RouteDoc>(doc: D): D {
    this.routes.push(doc);
    return doc;
  }
}
