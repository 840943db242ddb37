import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Vigil's root logger: JSON lines on stdout, one child per actor (`logger.child({ actor })`).
 * Lines are written synchronously: pino's default stdout stream buffers in memory and a crash loses
 * the last lines, and the console channel writes its lines synchronously on the same stdout, which
 * must not interleave with a write still in flight.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ name: 'vigil', level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, destination ?? pino.destination({ dest: 1, sync: true }));
}
