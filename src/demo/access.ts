import { totpUri } from '../staff/totp.js';
import { DEMO_PASSWORD, DEMO_STAFF } from './seed.js';

/**
 * Where to look and how to sign in, as `npm run demo` and `npx candor seed-demo` both print it: the
 * pages, the three staff accounts with the demo password, and the approver's and admin's
 * authenticator keys.
 */
export function describeDemoAccess(input: {
  publicBaseUrl: string;
  slug: string;
  approverTotpSecret: string;
  adminTotpSecret: string;
}): string {
  const base = input.publicBaseUrl;
  return `  Status page:      ${base}/incidents/${input.slug}
  In French:        ${base}/incidents/${input.slug}?lang=fr
  Sandbox outbox:   ${base}/sandbox/outbox
  Health:           ${base}/readyz

  Staff console:    ${base}/console
    Editor:         ${DEMO_STAFF.editor}    password: ${DEMO_PASSWORD}
    Approver:       ${DEMO_STAFF.approver}  password: ${DEMO_PASSWORD}
                    the approver also needs a 6-digit code: add this key to an authenticator app
                    ${input.approverTotpSecret}
                    or open ${totpUri(input.approverTotpSecret, DEMO_STAFF.approver)}
                    or, in development, print the current code: npx candor totp ${DEMO_STAFF.approver}
    Admin:          ${DEMO_STAFF.admin}     password: ${DEMO_PASSWORD}
                    staff, support queue, audit log and queues; its authenticator key:
                    ${input.adminTotpSecret}
                    or open ${totpUri(input.adminTotpSecret, DEMO_STAFF.admin)}
                    or, in development: npx candor totp ${DEMO_STAFF.admin}`;
}
