import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { HTTPException } from 'hono/http-exception';
import { NotFoundError, ValidationError, VigilError } from '../errors.ts';
import type { Logger } from '../runtime/logger.ts';

/** An error as the client sees it: a status and a JSON body. */
export interface ErrorPayload {
  status: ContentfulStatusCode;
  body: Record<string, unknown>;
}

/**
 * The one place errors become answers: typed errors map to their status, anything else is logged
 * and answered 500 with no details. Used by the Hono app's `onError` and by the fast path alike.
 */
export function errorPayload(error: unknown, logger: Logger, request: { method: string; path: string }): ErrorPayload {
  if (error instanceof ValidationError) {
    return { status: error.status as ContentfulStatusCode, body: { error: error.message, code: error.code, issues: error.issues } };
  }
  if (error instanceof NotFoundError) return { status: 404, body: { error: error.message, code: error.code } };
  if (error instanceof HTTPException) {
    const status = error.status as ContentfulStatusCode;
    const message = status === 413 ? 'request body too large' : error.message || 'bad request';
    return { status, body: { error: message, code: status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST' } };
  }
  if (error instanceof VigilError && error.code === 'CONFLICT') {
    return { status: 409, body: { error: error.message, code: error.code, field: error.field } };
  }
  if (error instanceof VigilError && error.retriable) {
    // The store or the broker is unreachable for now: the client may try again later.
    logger.warn({ err: error, path: request.path, method: request.method }, 'request failed; retriable');
    return { status: 503, body: { error: error.message, code: error.code, retriable: true } };
  }
  logger.error({ err: error, path: request.path, method: request.method }, 'request failed');
  return { status: 500, body: { error: 'internal error', code: 'INTERNAL' } };
}

/** `errorPayload` as the Hono app's response. */
export function errorResponse(error: Error, c: Context, logger: Logger): Response {
  const { status, body } = errorPayload(error, logger, { method: c.req.method, path: c.req.path });
  return c.json(body, status);
}
