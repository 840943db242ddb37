import nodemailer, { type Transporter } from 'nodemailer';
import { DeliveryError } from '../errors.ts';
import type { Channel, Outgoing } from './channel.ts';
import { formatEmail } from './email-format.ts';

/** Options of the email channel: an SMTP server and who receives the alerts. */
export interface EmailChannelOptions {
  host: string;
  port: number;
  user?: string;
  password?: string;
  from: string;
  to: string[];
  /** Connection, greeting and socket timeout (default 10 s). */
  timeoutMs?: number;
}

/** nodemailer's error fields that tell a permanent refusal from a transient one. */
interface SmtpFailure {
  code?: string;
  responseCode?: number;
  message?: string;
}

/** A 5xx reply or refused credentials will not change on retry; connection trouble and 4xx replies may. */
function toDeliveryError(error: unknown): DeliveryError {
  const failure = error as SmtpFailure;
  const permanent = (failure.responseCode ?? 0) >= 500 || failure.code === 'EAUTH';
  return new DeliveryError(`email not accepted: ${failure.message ?? String(error)}`, {
    code: failure.code ?? 'SMTP',
    status: failure.responseCode,
    retriable: !permanent,
    cause: error,
  });
}

/** Email over SMTP (nodemailer, pooled connections): `[SEVERITY] Title` with plain-text and HTML parts. */
export function createEmailChannel(options: EmailChannelOptions): Channel {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const transport: Transporter = nodemailer.createTransport({
    host: options.host,
    port: options.port,
    secure: options.port === 465,
    pool: true,
    maxConnections: 2,
    // Every new connection waits for the server's greeting (smtp-server delays it 100 ms; Postfix's
    // postscreen longer), so connections are reused for many messages: nodemailer's default is 100.
    maxMessages: 1_000,
    auth: options.user ? { user: options.user, pass: options.password ?? '' } : undefined,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  return {
    name: 'email',
    async send(notification: Outgoing) {
      const content = formatEmail(notification);
      try {
        await transport.sendMail({ from: options.from, to: options.to, ...content });
      } catch (error) {
        throw toDeliveryError(error);
      }
    },
    async close() {
      transport.close();
    },
  };
}
