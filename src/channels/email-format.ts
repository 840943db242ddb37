import type { Outgoing } from './channel.ts';

/** An email as the email channel sends it: subject, plain text and HTML of the same content. */
export interface EmailContent {
  /** `<notification id@vigil>`: the same on every redelivery, so mail clients and receivers can drop repeats. */
  messageId: string;
  subject: string;
  text: string;
  html: string;
}

const FOOTER = 'Sent by Vigil monitoring.';

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const valueText = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

/** `[SEVERITY] Title`, then a body with severity, title, message, one line per metadata field and a footer. */
export function formatEmail(notification: Outgoing): EmailContent {
  const severity = notification.severity.toUpperCase();
  const fields = Object.entries(notification.metadata);
  const text = [
    `Severity: ${severity}`,
    `Title: ${notification.title}`,
    '',
    notification.message,
    ...(fields.length > 0 ? ['', 'Details:', ...fields.map(([key, value]) => `  ${key}: ${valueText(value)}`)] : []),
    '',
    '--',
    FOOTER,
    '',
  ].join('\n');
  const rows = fields.map(([key, value]) => `<tr><th align="left">${escapeHtml(key)}</th><td>${escapeHtml(valueText(value))}</td></tr>`);
  const html = [
    '<!doctype html><html><body>',
    `<p><strong>Severity:</strong> ${severity}</p>`,
    `<h2>${escapeHtml(notification.title)}</h2>`,
    `<p>${escapeHtml(notification.message)}</p>`,
    rows.length > 0 ? `<table>${rows.join('')}</table>` : '',
    `<hr><p><small>${FOOTER}</small></p>`,
    '</body></html>',
  ].join('');
  return { messageId: `<${notification.id}@vigil>`, subject: `[${severity}] ${notification.title}`, text, html };
}
