import type { Config } from '../config/index.ts';
import type { Logger } from '../ports/logger.ts';
import type { Channel } from './channel.ts';
import { createConsoleChannel } from './console.ts';
import type { EmailChannelOptions } from './email.ts';
import { createSlackChannel } from './slack.ts';
import { createWebhookChannel } from './webhook.ts';

/** Names of the channels the config enables and completes (console always), without opening them. */
export function configuredChannels(config: Config): Set<string> {
  const { smtp, slack, webhook } = config;
  const names = new Set(['console']);
  if (smtp.enabled && smtp.host && smtp.to.length > 0) names.add('email');
  if (slack.enabled && slack.webhookUrl) names.add('slack');
  if (webhook.enabled && webhook.url) names.add('webhook');
  return names;
}

/**
 * The channels the config enables and completes, by name; console is always there. An enabled
 * channel missing a setting is left out with a warning (its rows then go to the console fallback).
 */
export function openChannels(config: Config, logger: Logger): Map<string, Channel> {
  const channels = new Map<string, Channel>([['console', createConsoleChannel(logger)]]);
  const { smtp, slack, webhook } = config;
  if (smtp.enabled) {
    if (smtp.host && smtp.to.length > 0) channels.set('email', lazyEmailChannel({ ...smtp, host: smtp.host }));
    else logger.warn({ channel: 'email', missing: smtp.host ? 'ALERT_EMAILS' : 'SMTP_HOST' }, 'channel enabled but not configured; using console');
  }
  if (slack.enabled) {
    if (slack.webhookUrl) channels.set('slack', createSlackChannel({ webhookUrl: slack.webhookUrl }));
    else logger.warn({ channel: 'slack', missing: 'SLACK_WEBHOOK_URL' }, 'channel enabled but not configured; using console');
  }
  if (webhook.enabled) {
    if (webhook.url) channels.set('webhook', createWebhookChannel({ url: webhook.url }));
    else logger.warn({ channel: 'webhook', missing: 'WEBHOOK_URL' }, 'channel enabled but not configured; using console');
  }
  return channels;
}

/** The email channel, with its module and nodemailer imported on the first send (they cost start-up time when unused). */
function lazyEmailChannel(options: EmailChannelOptions): Channel {
  let loading: Promise<Channel> | undefined;
  const channel = () => (loading ??= import('./email.ts').then(({ createEmailChannel }) => createEmailChannel(options)));
  return {
    name: 'email',
    send: async (notification, signal) => (await channel()).send(notification, signal),
    close: async () => {
      if (loading) await (await loading).close();
    },
  };
}
