import type { z } from 'zod';
import type { Issue } from '../errors.ts';

/** A path as a rules file names it: `rules[0].threshold`, `tests[1].input_series[0].values`. */
export function pathOf(parts: readonly PropertyKey[]): string {
  return parts.reduce<string>((path, part) => (typeof part === 'number' ? `${path}[${part}]` : path ? `${path}.${String(part)}` : String(part)), '');
}

/** zod's issues as Vigil's, under `prefix`. */
export function zodIssues(error: z.ZodError, prefix: readonly PropertyKey[] = []): Issue[] {
  return error.issues.flatMap((issue) =>
    // An unknown key is named itself, so the message points at the line to fix.
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: pathOf([...prefix, ...issue.path, key]), message: 'is not a known field (check its spelling and indentation)' }))
      : [{ path: pathOf([...prefix, ...issue.path]), message: issue.message }],
  );
}
