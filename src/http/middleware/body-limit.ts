import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

/** A body size limit and the setting that raises it (named in the 413). */
export interface BodyLimit {
  bytes: number;
  setting: string;
}

/** The 413 body for a request over `limit`: the limit and the setting that raises it. */
export function tooLargeBody(limit: BodyLimit) {
  const error = `request body over ${limit.bytes} bytes: send less, or raise ${limit.setting}`;
  return { error, code: 'PAYLOAD_TOO_LARGE', limit_bytes: limit.bytes, setting: limit.setting };
}

/**
 * Refuses bodies over `limit.bytes` with 413 JSON naming the limit and its setting (by
 * Content-Length, or while reading a chunked body). GET and HEAD are passed through untouched:
 * asking a Node request for its body builds a whole web `Request`, a cost the hot read routes should
 * not pay. `exempt` names the requests a route limits itself (`POST /rules`).
 */
export function maxBody(limit: BodyLimit, exempt: (method: string, path: string) => boolean = () => false): MiddlewareHandler {
  const body = tooLargeBody(limit);
  const check = bodyLimit({ maxSize: limit.bytes, onError: (c) => c.json(body, 413) });
  return (c, next) => {
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS' || exempt(method, c.req.path)) return next();
    return check(c, next);
  };
}
