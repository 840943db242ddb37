import type { Severity } from '../domain/rule.ts';
import type { Outgoing } from './channel.ts';

/** Attachment colour per severity (Slack's legacy attachment `color`). */
const COLORS: Record<Severity, string> = { info: '#2eb886', warning: '#daa038', error: '#e01e5a', critical: '#7a0019' };

/** One Slack legacy attachment field. */
export interface SlackField {
  title: string;
  value: string;
  short: boolean;
}

/** The body POSTed to a Slack incoming webhook. */
export interface SlackMessage {
  text: string;
  attachments: { color: string; callback_id: string; title: string; text: string; fields: SlackField[]; footer: string; ts: number }[];
}

/** An incoming-webhook message: one attachment coloured by severity, metadata as short fields, a footer. */
export function formatSlack(notification: Outgoing): SlackMessage {
  const fields = Object.entries(notification.metadata).map(([title, value]) => ({
    title,
    value: typeof value === 'string' ? value : JSON.stringify(value),
    short: true,
  }));
  return {
    text: `[${notification.severity.toUpperCase()}] ${notification.title}`,
    attachments: [
      {
        color: COLORS[notification.severity],
        // The notification id: the same on every redelivery, so a receiver can drop repeats.
        callback_id: notification.id,
        title: notification.title,
        text: notification.message,
        fields: [{ title: 'severity', value: notification.severity, short: true }, ...fields],
        footer: 'Vigil',
        ts: Math.floor(Date.parse(notification.created_at) / 1_000),
      },
    ],
  };
}
