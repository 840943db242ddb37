import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

/**
 * Refuses bodies over `maxBytes` with 413 JSON (by Content-Length, or while reading a chunked body).
 * GET and HEAD are passed through untouched: asking a Node request for its body builds a whole
 * web `Request`, a cost the hot read routes should not pay.
 */
export function maxBody(maxBytes: number): MiddlewareHandler {
  const limit = bodyLimit({ maxSize: maxBytes });
  return (c, next) => {
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return next();
    return limit(c, next);
  };
}
