import { createRequire } from 'node:module';
import { pino } from 'pino';
import type pinoPretty from 'pino-pretty';
import type { Logger } from '../ports/logger.ts';

export type { Logger } from '../ports/logger.ts';

/** How log lines look: JSON, human-readable, or `auto` (human-readable when stdout is a terminal). */
export type LogFormat = 'auto' | 'json' | 'pretty';

/** Whether `format` means pretty lines on this process's stdout. */
export function isPretty(format: LogFormat, stdoutIsTty = process.stdout.isTTY === true): boolean {
  return format === 'pretty' || (format === 'auto' && stdoutIsTty);
}

/**
 * Vigil's root logger: JSON lines on stdout (or `destination`), one child per actor
 * (`logger.child({ actor })`). With `format` pretty (or auto on a terminal) the same records are
 * written by pino-pretty, synchronously, in this thread: no transport worker to outlive the process.
 * pino-pretty is loaded only then (an embedder logging JSON never holds it).
 */
export function createLogger(level: string, destination?: pino.DestinationStream, format: LogFormat = 'json'): Logger {
  const options = { name: 'vigil', level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime };
  if (!destination && isPretty(format)) {
    const load = createRequire(import.meta.url)('pino-pretty') as typeof pinoPretty;
    const pretty = load({ colorize: process.stdout.isTTY === true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'name' });
    return pino(options, pretty);
  }
  // Synchronous: pino's default stdout stream buffers in memory, and a crash would lose the last lines.
  return pino(options, destination ?? pino.destination({ dest: 1, sync: true }));
}

/** The logger a config asks for (LOG_LEVEL, LOG_FORMAT). */
export function loggerOf(config: { logLevel: string; logFormat?: LogFormat }): Logger {
  return createLogger(config.logLevel, undefined, config.logFormat ?? 'json');
}
