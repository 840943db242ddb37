import type { Context } from 'hono';
import type { z } from 'zod';
import { ValidationError } from '../errors.ts';
import { parseWith } from '../domain/parse.ts';

export { issuesOf, parseWith } from '../domain/parse.ts';

/** The request's JSON body, validated: 400 when it is not JSON, 422 when it does not fit `schema`. */
export async function parseBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new ValidationError([{ path: 'body', message: 'must be valid JSON (send Content-Type: application/json)' }], { status: 400, code: 'INVALID_JSON' });
  }
  return parseWith(schema, body);
}

/** The request's query parameters, validated: 400 naming the parameter when one does not fit. */
export function parseQuery<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  return parseWith(schema, c.req.query(), { status: 400 });
}
