import type { Deps } from '../deps.js';
import type { OutgoingMessage } from '../channels/channel.js';
import type { RenderedNotice } from '../notices/render.js';
import { alertToRaise, stockLevel } from './rules.js';
import {
  countAvailableUpTo,
  insertStockAlert,
  listActiveAdmins,
  raiseAlertLevel,
  recordAlertEmails,
  type Pool,
} from './store.js';

export type AlertDeps = Pick<Deps, 'db' | 'vault' | 'i18n' | 'channels' | 'clock' | 'logger' | 'config'>;

/**
 * Looks at a pool's stock after a code went out (or could not) and warns the admins once per level:
 * a banner in the console (the pool's alert level) and an email through the normal email channel.
 */
export async function checkStock(deps: AlertDeps, pool: Pool, knownEmpty = false): Promise<void> {
  const available = knownEmpty ? 0 : await countAvailableUpTo(deps.db, pool.id, pool.lowStockThreshold + 1);
  const level = alertToRaise(pool.stockAlertLevel, stockLevel(available, pool.lowStockThreshold));
  if (!level) return;
  // Many reveals cross the threshold at once, across processes: the conditional update picks one.
  if (!(await raiseAlertLevel(deps.db, pool.id, level))) return;
  const alertId = await insertStockAlert(deps.db, {
    poolId: pool.id,
    level,
    available,
    at: deps.clock.now(),
  });
  deps.logger.warn({ poolId: pool.id, level, available }, 'code pool stock alert');
  try {
    const emailed = await emailAdmins(deps, pool, alertId, level, available);
    await recordAlertEmails(deps.db, alertId, emailed);
  } catch (error) {
    // The banner stands whatever happens to the email; the person revealing a code must not see an error.
    deps.logger.error({ err: error, poolId: pool.id, alertId }, 'could not email admins about code stock');
  }
}

async function emailAdmins(
  deps: AlertDeps,
  pool: Pool,
  alertId: number,
  level: 'low' | 'empty',
  available: number,
): Promise<number> {
  const admins = await listActiveAdmins(deps.db);
  // Staff have no language on file yet: the console's default language.
  const locale = 'en';
  const t = deps.i18n.getFixedT(locale, 'codes');
  const values = {
    pool: pool.name,
    vendor: pool.vendorName,
    available,
    threshold: pool.lowStockThreshold,
    link: `${deps.config.publicBaseUrl}/console/codes/${pool.id}`,
  };
  const subject = t(level === 'empty' ? 'alertEmail.subjectEmpty' : 'alertEmail.subjectLow', values);
  const paragraphs = [
    t(level === 'empty' ? 'alertEmail.bodyEmpty' : 'alertEmail.bodyLow', values),
    t('alertEmail.action', values),
  ];
  // The notice email layout puts a fact and a button under the first section: here the codes left
  // and the pool's console page, where more codes are uploaded.
  const content: RenderedNotice = {
    channel: 'email',
    locale,
    dir: 'ltr',
    subject,
    text: paragraphs.join('\n\n'),
    paragraphs,
    sections: [{ heading: null, paragraphs }],
    footer: [t('alertEmail.footer')],
    referenceCode: String(available),
    lookupUrl: values.link,
    unsubscribeUrl: null,
    speech: null,
    call: null,
    sms: null,
    labels: {
      referenceLabel: t('alertEmail.availableLabel'),
      lookupButton: t('alertEmail.openPool'),
      qrCaption: '',
      pageOf: '',
    },
  };
  let sent = 0;
  for (const admin of admins) {
    const message: OutgoingMessage = {
      // Not a campaign message: a negative id can never match a message row, so a delivery receipt
      // for this email cannot move any notice's status.
      messageId: -alertId,
      channel: 'email',
      locale,
      largePrint: false,
      to: {
        name: admin.displayName,
        email: deps.vault.open(admin.sealedEmail),
        phone: null,
        postalAddress: null,
      },
      content,
    };
    await deps.channels.email.send(message);
    sent += 1;
  }
  return sent;
}
