import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
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

/** Node's parser errors (`clientError`) as the status Node itself would send, and a code naming the problem. */
const CLIENT_ERRORS: Record<string, { status: number; error: string; code: string }> = {
  HPE_HEADER_OVERFLOW: { status: 431, error: 'request line and headers too large (at most 16 KiB)', code: 'HEADERS_TOO_LARGE' },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: { status: 413, error: 'chunk extensions too large', code: 'PAYLOAD_TOO_LARGE' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, error: 'request not received in time', code: 'REQUEST_TIMEOUT' },
};

/**
 * The server's `clientError` handler: a request Node could not parse (headers too large, a malformed
 * request line, bytes that are not HTTP) is answered with a JSON body naming the problem, like every
 * other refusal, where Node's default answers with an empty body.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const known = CLIENT_ERRORS[error.code ?? ''] ?? { status: 400, error: 'malformed HTTP request', code: 'BAD_REQUEST' };
  const body = JSON.stringify({ error: known.error, code: known.code });
  socket.end(
    `HTTP/1.1 ${known.status} ${STATUS_CODES[known.status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
