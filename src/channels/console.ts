import { pino } from 'pino';
import type { Logger } from '../ports/logger.ts';
import type { Severity } from '../domain/rule.ts';
import type { Channel } from './channel.ts';
import { fdLineWriter, type LineWriter } from './line-writer.ts';

const LEVELS: Record<Severity, 'info' | 'warn' | 'error' | 'fatal'> = { info: 'info', warning: 'warn', error: 'error', critical: 'fatal' };

/**
 * The console channel: a JSON log line at the severity's level, with the logger's level and fields.
 * Always available; the fallback of every other channel. The line is written synchronously by
 * `write` (stdout by default) before `send` resolves, so a row is never marked sent while its line
 * still sits in pino's asynchronous buffer; a failed write rejects. The line's `notification` field
 * is the row id: the key a reader of the log deduplicates redeliveries by.
 */
export function createConsoleChannel(logger: Logger, write: LineWriter = fdLineWriter()): Channel {
  // Always JSON, whatever the root logger's format: its own logger, with the root's level and fields.
  const root = pino({ name: 'vigil', level: logger.level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, { write });
  const log = root.child({ ...logger.bindings(), channel: 'console' });
  return {
    name: 'console',
    async send(notification) {
      const { id, severity, title, message, metadata, alert_id } = notification;
      log[LEVELS[severity]]({ notification: id, severity, title, body: message, metadata, alert_id }, 'notification');
    },
    async close() {},
  };
}
