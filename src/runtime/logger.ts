import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Vigil's root logger: JSON lines on stdout, one child per actor (`logger.child({ actor })`). */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ name: 'vigil', level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}
