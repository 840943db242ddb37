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
