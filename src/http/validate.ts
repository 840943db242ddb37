import type { Context } from 'hono';
import type { z } from 'zod';
import { ValidationError, type Issue } from '../errors.ts';

/** zod issues as Vigil's `{ path, message }`, paths dotted with indexes (`readings.0.value`). */
export function issuesOf(error: z.ZodError, prefix = ''): Issue[] {
  return error.issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].filter(Boolean).join('.'),
    message: issue.message,
  }));
}

/** Parses a value with `schema` or throws a ValidationError (`status` 422 for bodies, 400 for queries). */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, options: { prefix?: string; status?: 400 | 422 } = {}): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(issuesOf(result.error, options.prefix), { status: options.status ?? 422 });
  return result.data;
}

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
