import { VigilError } from '../errors.ts';

/** Exit codes: 0 success (and a graceful stop), 1 failure, 2 bad configuration or input. */
export const EXIT = { ok: 0, failed: 1, badInput: 2 } as const;

/** Prints an error for a person and returns the exit code it deserves. */
export function reportError(error: unknown): number {
  if (error instanceof VigilError && (error.code === 'CONFIG_INVALID' || error.code === 'VALIDATION_FAILED')) {
    process.stderr.write(`vigil: ${error.message}\n`);
    return EXIT.badInput;
  }
  process.stderr.write(`vigil: ${(error as Error)?.stack ?? String(error)}\n`);
  return EXIT.failed;
}
