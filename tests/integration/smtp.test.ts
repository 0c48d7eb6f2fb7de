import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSmtpEmail } from '../../src/channels/smtp.js';
import { createNoticeI18n } from '../../src/notices/all-locales-i18n.js';
import { renderNotice } from '../../src/notices/render.js';
import type { OutgoingMessage } from '../../src/channels/channel.js';
import { ProviderError } from '../../src/platform/errors.js';

interface Received {
  from: string;
  to: string[];
  raw: string;
}

/** A real SMTP server on loopback (the nodemailer project's own), keeping what it receives. */
async function startSmtp(reject: (to: string) => boolean) {
  const received: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onRcptTo(address, _session, callback) {
      if (reject(address.address)) {
        const error = Object.assign(new Error('mailbox unavailable'), { responseCode: 550 });
        callback(error);
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { received, port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('email over SMTP', () => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let message: (kind: 'initial_notice' | 'update', to: string) => OutgoingMessage;

  beforeAll(async () => {
    smtp = await startSmtp((to) => to.startsWith('gone@'));
    const i18n = await createNoticeI18n();
    message = (kind, to) => ({
      messageId: 42,
      channel: 'email',
      locale: 'de',
      largePrint: false,
      to: { name: 'Jonas Weber', email: to, phone: null, postalAddress: null },
      content: renderNotice(i18n.t, 'de', kind, 'email', {
        organisation: 'Acme Bikes',
        name: 'Jonas Weber',
        referenceCode: 'AB12-CD34',
        lookupUrl: 'https://notice.acme.example/incidents/x',
        dataTypes: ['names'],
        helpline: null,
        updateTitle: 'Zugang geschlossen',
        updateBody: 'Die Sicherung ist gelöscht.',
        unsubscribeUrl: 'https://notice.acme.example/notices/unsubscribe/1.abc',
      }),
    });
  });
  afterAll(async () => {
    await smtp?.close();
  });

  it('delivers the German notice with text and HTML parts to the person', async () => {
    const adapter = createSmtpEmail({
      url: `smtp://127.0.0.1:${smtp.port}`,
      from: 'Acme <notices@acme.example>',
      timeoutMs: 10_000,
    });
    const result = await adapter.send(message('initial_notice', 'jonas@example.de'));
    expect(result.provider).toBe('smtp');
    expect(result.providerMessageId).toMatch(/^<.+@.+>$/);
    const mail = smtp.received.at(-1)!;
    expect(mail.to).toEqual(['jonas@example.de']);
    expect(mail.from).toBe('notices@acme.example');
    expect(mail.raw).toContain('Content-Language: de');
    expect(mail.raw).toContain('text/plain');
    expect(mail.raw).toContain('text/html');
    expect(mail.raw).toContain('AB12-CD34');
    expect(mail.raw).not.toContain('List-Unsubscribe');
  });

  it('adds one-click unsubscribe headers to an update', async () => {
    const adapter = createSmtpEmail({
      url: `smtp://127.0.0.1:${smtp.port}`,
      from: 'notices@acme.example',
      timeoutMs: 10_000,
    });
    await adapter.send(message('update', 'jonas@example.de'));
    const mail = smtp.received.at(-1)!;
    expect(mail.raw).toContain('List-Unsubscribe: <https://notice.acme.example/notices/unsubscribe/1.abc>');
    expect(mail.raw).toContain('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
  });

  it('fails for good when the server refuses the mailbox, and retries when the server is away', async () => {
    const adapter = createSmtpEmail({
      url: `smtp://127.0.0.1:${smtp.port}`,
      from: 'notices@acme.example',
      timeoutMs: 10_000,
    });
    const refused = await adapter.send(message('initial_notice', 'gone@example.de')).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ProviderError);
    expect((refused as ProviderError).retryable).toBe(false);

    const nowhere = createSmtpEmail({
      url: 'smtp://127.0.0.1:1',
      from: 'notices@acme.example',
      timeoutMs: 10_000,
    });
    const away = await nowhere.send(message('initial_notice', 'jonas@example.de')).catch((e: unknown) => e);
    expect(away).toBeInstanceOf(ProviderError);
    expect((away as ProviderError).retryable).toBe(true);
    // Refused at connect: the server never had it, so it is retried as usual, not looked up.
    expect((away as ProviderError).outcomeUnknown).toBe(false);
  });
});
