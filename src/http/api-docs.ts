import type { z } from 'zod';

/** Statuses a route answers besides its success and what its inputs imply (409 conflict, 503 retriable, 404 with no path parameter). */
export type ErrorStatus = 404 | 409 | 422 | 503;

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
  /** The success status: 200 unless said (201 created, 202 accepted, 204 no content). */
  status?: 200 | 201 | 202 | 204;
  /** The success body's media type when it is not JSON (`text/plain`, `text/html`, `text/event-stream`). */
  mediaType?: string;
  /** Error statuses the inputs do not imply: 409 when an id exists, 503 when the store or broker is unreachable for now. */
  errors?: readonly ErrorStatus[];
  /** A body of its own for an error status (`GET /readyz` answers 503 with its checks). */
  errorBodies?: Partial<Record<ErrorStatus, z.ZodType>>;
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
