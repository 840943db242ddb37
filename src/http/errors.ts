import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { NotFoundError, ValidationError, VigilError } from '../errors.ts';
import type { Logger } from '../runtime/logger.ts';

/** The one place errors become responses: typed errors map to their status, anything else is a 500 with no details. */
export function errorResponse(error: Error, c: Context, logger: Logger): Response {
  if (error instanceof ValidationError) {
    return c.json({ error: error.message, code: error.code, issues: error.issues }, error.status);
  }
  if (error instanceof NotFoundError) {
    return c.json({ error: error.message, code: error.code }, 404);
  }
  if (error instanceof HTTPException) {
    const status = error.status;
    const message = status === 413 ? 'request body too large' : error.message || 'bad request';
    return c.json({ error: message, code: status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST' }, status);
  }
  if (error instanceof VigilError && error.code === 'CONFLICT') {
    return c.json({ error: error.message, code: error.code, field: error.field }, 409);
  }
  logger.error({ err: error, path: c.req.path, method: c.req.method }, 'request failed');
  return c.json({ error: 'internal error', code: 'INTERNAL' }, 500);
}
