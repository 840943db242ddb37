import type { Logger } from '../runtime/logger.ts';
import type { Severity } from '../domain/rule.ts';
import type { Channel } from './channel.ts';

const LEVELS: Record<Severity, 'info' | 'warn' | 'error' | 'fatal'> = { info: 'info', warning: 'warn', error: 'error', critical: 'fatal' };

/** The console channel: a log line at the severity's level. Always available; the fallback of every other channel. */
export function createConsoleChannel(logger: Logger): Channel {
  const log = logger.child({ channel: 'console' });
  return {
    name: 'console',
    async send(notification) {
      const { id, severity, title, message, metadata, alert_id } = notification;
      log[LEVELS[severity]]({ notification: id, severity, title, body: message, metadata, alert_id }, 'notification');
    },
    async close() {},
  };
}
