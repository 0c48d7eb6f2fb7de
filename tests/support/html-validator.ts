import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { BrowserContext, Response } from 'playwright-core';

/**
 * The Nu HTML Checker (vnu, the W3C's validator) over every page a browser test visited, as the server
 * sent it. Pages are collected as the test goes and checked in one vnu run at the end: the checker is
 * a Java program that takes seconds to start, so one run per test file rather than one per page.
 */

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const VNU_JAR = require.resolve('vnu-jar/build/dist/vnu.jar');
/** vnu reads many pages in a few seconds once started; starting Java on a busy 2-core machine is the slow part. */
const VNU_TIMEOUT_MS = 120_000;

interface VnuMessage {
  type: string;
  subType?: string;
  url?: string;
  lastLine?: number;
  message: string;
  extract?: string;
}

export interface HtmlValidator {
  /**
   * Collects every HTML page the context navigates to from now on; `skip` leaves out pages that are
   * not ours (the queue dashboard is a library's).
   */
  watch(context: BrowserContext, skip?: (url: URL) => boolean): void;
  /** Adds one page by hand (for HTML not loaded through a watched context). */
  add(label: string, html: string): void;
  /** How many distinct pages were collected. */
  readonly size: number;
  /** Runs vnu once over every page collected; one line per error, naming the page and line. */
  errors(): Promise<string[]>;
}

export function createHtmlValidator(): HtmlValidator {
  const pages = new Map<string, { label: string; html: string }>();
  const pending = new Set<Promise<void>>();

  function add(label: string, html: string) {
    const hash = crypto.createHash('sha256').update(html).digest('hex').slice(0, 16);
    if (!pages.has(hash)) pages.set(hash, { label, html });
  }

  async function collect(response: Response, skip: (url: URL) => boolean) {
    const request = response.request();
    if (!request.isNavigationRequest() || (response.status() >= 300 && response.status() < 400)) return;
    if (!(response.headers()['content-type'] ?? '').startsWith('text/html')) return;
    const url = new URL(response.url());
    if (skip(url)) return;
    // A page the browser left before its body arrived has no body to read: nothing was shown of it.
    const html = await response.text().catch(() => null);
    if (html !== null) add(`${response.status()} ${url.pathname}${url.search}`, html);
  }

  return {
    watch(context, skip = () => false) {
      context.on('response', (response) => {
        const done = collect(response, skip).finally(() => pending.delete(done));
        pending.add(done);
      });
    },
    add,
    get size() {
      return pages.size;
    },
    async errors() {
      await Promise.all([...pending]);
      if (pages.size === 0) return [];
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'candor-vnu-'));
      try {
        const labels = new Map<string, string>();
        const files: string[] = [];
        for (const [hash, page] of pages) {
          const file = path.join(dir, `${hash}.html`);
          await fs.writeFile(file, page.html);
          labels.set(hash, page.label);
          files.push(file);
        }
        const { stderr } = await run(
          'java',
          ['-jar', VNU_JAR, '--errors-only', '--format', 'json', '--exit-zero-always', ...files],
          { timeout: VNU_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 },
        ).catch((error: Error & { code?: string }) => {
          if (error.code === 'ENOENT')
            throw new Error('vnu needs Java: apt-get install -y default-jre-headless', { cause: error });
          throw error;
        });
        const messages = (JSON.parse(stderr) as { messages: VnuMessage[] }).messages;
        return messages
          .filter((message) => message.type === 'error' || message.subType === 'fatal')
          .map((message) => {
            const hash = path.basename(message.url ?? '', '.html');
            const where = labels.get(hash) ?? message.url ?? '?';
            return `${where} line ${message.lastLine ?? '?'}: ${message.message} [${(message.extract ?? '').trim()}]`;
          });
      } finally {
        await fs.rm(dir, { recursive: true, force: true });
      }
    },
  };
}
