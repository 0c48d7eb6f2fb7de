import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ejs from 'ejs';
import type { RenderedNotice } from './render.js';

const TEMPLATE = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../views/notices/email.ejs');

let compiled: ejs.TemplateFunction | null = null;

/**
 * The HTML part of a notice email: one column, inline styles (mail clients drop stylesheets), the
 * person's language and direction, the reference code and the link up top, no images and no tracking
 * pixel. Every value is escaped by EJS.
 */
export function renderEmailHtml(notice: RenderedNotice): string {
  compiled ??= ejs.compile(fs.readFileSync(TEMPLATE, 'utf8'), { filename: TEMPLATE });
  return compiled({ notice });
}

/**
 * RFC 2369 and RFC 8058 headers: mail clients show an "unsubscribe" button and may POST to the URL
 * in one click. Only update emails carry them; the first notice is a legal duty, not a mailing.
 */
export function unsubscribeHeaders(notice: RenderedNotice): Record<string, string> {
  if (!notice.unsubscribeUrl) return {};
  return {
    'List-Unsubscribe': `<${notice.unsubscribeUrl}>`,
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
  };
}

/** A value as renderEmailHtml writes it into the HTML part (EJS's own escaping). */
export function escapeEmailHtml(value: string): string {
  return ejs.escapeXML(value);
}
