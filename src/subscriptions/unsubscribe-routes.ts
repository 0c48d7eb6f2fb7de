import express, { type Express } from 'express';
import type { Deps } from '../deps.js';
import { NotFoundError } from '../platform/errors.js';
import { verifyUnsubscribeToken } from '../campaigns/compose.js';
import { optOutOfUpdates } from './store.js';

type UnsubscribeDeps = Pick<Deps, 'config' | 'db' | 'clock' | 'logger'>;

/**
 * Stopping update emails from the link in their footer or the mail client's unsubscribe button
 * (RFC 8058 one-click POST). The token is the capability: it names only a row id, with a MAC. GET only
 * shows a button, because mail scanners fetch links and must not unsubscribe anyone.
 */
export function registerUnsubscribe(app: Express, deps: UnsubscribeDeps): void {
  const personFrom = (token: unknown) => {
    const personId =
      typeof token === 'string' ? verifyUnsubscribeToken(deps.config.lookupHmacKey, token) : null;
    if (!personId) throw new NotFoundError('This link is not valid.');
    return personId;
  };

  app.get('/notices/unsubscribe/:token', (req, res) => {
    personFrom(req.params.token);
    res.render('subscriptions/unsubscribe', {
      title: res.locals.t('notices:unsubscribePage.title'),
      done: false,
    });
  });

  app.post(
    '/notices/unsubscribe/:token',
    express.urlencoded({ extended: false, limit: '1kb' }),
    async (req, res) => {
      const personId = personFrom(req.params.token);
      await optOutOfUpdates(deps.db, personId, deps.clock.now());
      deps.logger.info({ personId }, 'unsubscribed from update emails');
      res.render('subscriptions/unsubscribe', {
        title: res.locals.t('notices:unsubscribePage.title'),
        done: true,
      });
    },
  );
}
