import nodemailer from 'nodemailer';
import { providerErrorFromStatus, ValidationError } from '../platform/errors.js';
import { renderEmailHtml, unsubscribeHeaders } from '../notices/email.js';
import type { ChannelAdapter } from './channel.js';
import { classifyCallFailure } from './outcome.js';

export interface SmtpSettings {
  /** smtp://user:pass@host:587 (STARTTLS when offered) or smtps://…:465. */
  url: string;
  from: string;
  /** Connecting, the greeting and each wait on the socket give up after this long (nodemailer's own are minutes). */
  timeoutMs: number;
  /** The Reply-To for a message, when replies come back to Candor (INBOUND_EMAIL_DOMAIN). */
  replyTo?: (messageId: number) => string | null;
}

/**
 * Email through any SMTP server (the business's own mail host, or a relay), for a business without
 * SendGrid. SMTP gives no delivery receipts: a message accepted by the server stays "sent".
 */
export function createSmtpEmail(settings: SmtpSettings): ChannelAdapter & { close(): void } {
  const transport = nodemailer.createTransport(
    {
      url: settings.url,
      connectionTimeout: settings.timeoutMs,
      greetingTimeout: settings.timeoutMs,
      socketTimeout: settings.timeoutMs,
    },
    { from: settings.from },
  );

  return {
    channel: 'email',
    provider: 'smtp',
    async send(message) {
      const { email } = message.to;
      if (!email) throw new ValidationError(`message ${message.messageId} has no email address`);
      try {
        const info = await transport.sendMail({
          to: message.to.name ? { name: message.to.name, address: email } : email,
          subject: message.content.subject ?? '',
          text: message.content.text,
          html: renderEmailHtml(message.content),
          headers: { ...unsubscribeHeaders(message.content), 'Content-Language': message.locale },
          ...(settings.replyTo?.(message.messageId) ? { replyTo: settings.replyTo(message.messageId)! } : {}),
        });
        return { provider: 'smtp', providerMessageId: info.messageId };
      } catch (error) {
        throw toProviderError(error);
      }
    },
    close() {
      transport.close();
    },
  };
}

function toProviderError(error: unknown) {
  const record = typeof error === 'object' && error !== null ? (error as Record<string, unknown>) : {};
  const code = typeof record.responseCode === 'number' ? record.responseCode : undefined;
  const message = error instanceof Error ? error.message : String(error);
  // SMTP offers no way to ask afterwards: an unknown outcome waits out UNKNOWN_RESEND_AFTER_SECONDS.
  if (classifyCallFailure(error) === 'unknown') {
    const errorCode = typeof record.code === 'string' ? record.code : undefined;
    return providerErrorFromStatus(
      'smtp',
      undefined,
      `No answer from the SMTP server: ${message}`,
      errorCode,
      { outcomeUnknown: true },
    );
  }
  // 5xx SMTP replies are permanent (bad mailbox); 4xx and connection errors are worth retrying.
  const status = code === undefined ? undefined : code >= 500 ? 400 : 503;
  return providerErrorFromStatus('smtp', status, `The SMTP server refused the message: ${message}`, code);
}
