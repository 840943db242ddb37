import type { Context } from 'hono';
import type { z } from 'zod';
import { parseWith } from '../domain/parse.ts';
import { invalidJson } from './json-body.ts';

export { issuesOf, parseWith } from '../domain/parse.ts';

/** The request's JSON body, validated: 400 when it is not JSON, 422 when it does not fit `schema`. */
export async function parseBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw invalidJson();
  }
  return parseWith(schema, body);
}

/** The request's query parameters, validated: 400 naming the parameter when one does not fit. */
export function parseQuery<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  return parseWith(schema, c.req.query(), { status: 400 });
}
