import type http from 'node:http';
import request from 'supertest';
import type { Deps } from '../../src/deps.js';
import { listOutbox } from '../../src/sandbox-outbox/store.js';

/** Extracts the CSRF token from a page, as a browser's form would carry it. */
export function csrfFrom(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error('no CSRF token on the page');
  return match[1];
}

/** A browser-like client: keeps cookies, fetches the page first, then posts its form with the token. */
export function browser(server: http.Server) {
  const agent = request.agent(server);
  return {
    agent,
    get: (path: string) => agent.get(path),
    /** Resolves to the response; `.expect(status)` fails with the page's text when the status differs. */
    submit(pagePath: string, action: string, fields: Record<string, string>) {
      const response = (async () => {
        const page = await agent.get(pagePath);
        return agent
          .post(action)
          .type('form')
          .send({ ...fields, _csrf: csrfFrom(page.text) });
      })();
      return Object.assign(response, {
        async expect(status: number) {
          const result = await response;
          if (result.status !== status)
            throw new Error(
              `expected ${status} from ${action}, got ${result.status}: ${result.text.slice(0, 800)}`,
            );
          return result;
        },
      });
    },
  };
}

/** Portal messages (codes, confirmations) the sandbox "sent", newest first. */
export async function portalOutbox(deps: Pick<Deps, 'db' | 'vault'>) {
  const { entries } = await listOutbox(deps.db, deps.vault, 500);
  return entries.filter((entry) => entry.messageId < 0);
}

export function codeFrom(text: string): string {
  const match = /\b(\d{6})\b/.exec(text);
  if (!match?.[1]) throw new Error('no code in the message');
  return match[1];
}
