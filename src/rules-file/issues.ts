import type { z } from 'zod';
import type { Issue } from '../errors.ts';

/** A path as a rules file names it: `rules[0].threshold`, `tests[1].input_series[0].values`. */
export function pathOf(parts: readonly PropertyKey[]): string {
  return parts.reduce<string>((path, part) => (typeof part === 'number' ? `${path}[${part}]` : path ? `${path}.${String(part)}` : String(part)), '');
}

/** zod's issues as Vigil's, under `prefix`. */
export function zodIssues(error: z.ZodError, prefix: readonly PropertyKey[] = []): Issue[] {
  return error.issues.map((issue) => ({ path: pathOf([...prefix, ...issue.path]), message: issue.message }));
}
