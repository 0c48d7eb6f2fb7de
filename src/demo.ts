import { loadEnvironment, configOrExit, servicesOrExit } from './startup.js';
import { createDeps } from './deps.js';
import { migrate } from './platform/db.js';
import { createLogger } from './platform/logger.js';
import { run } from './server.js';
import { DEMO_PASSWORD, DEMO_STAFF, ensureDemoCredentials, seedDemo } from './demo/seed.js';
import { totpUri } from './staff/totp.js';
import { DEMO_CALLING_HOURS, describeCallingHours, sendDemoNotice } from './demo/send.js';

// `npm run demo`: migrate, seed a demo incident, start web and workers on sandbox providers, send the notice.
loadEnvironment();
for (const key of ['EMAIL_PROVIDER', 'SMS_PROVIDER', 'VOICE_PROVIDER']) process.env[key] = 'sandbox';
process.env.LOG_LEVEL ??= 'warn';
// The same demo at any hour, unless the operator chose calling hours (in the environment or .env).
process.env.CALLING_HOURS ??= DEMO_CALLING_HOURS;
const config = configOrExit();
if (config.env === 'production') {
  console.error('npm run demo gives staff a published password: it will not run with NODE_ENV=production.');
  process.exit(1);
}
await servicesOrExit(config);
await migrate(config.databaseUrl, createLogger({ level: 'warn' }));
const deps = await createDeps(config);
const seed = await seedDemo(deps);
const { approverTotpSecret, adminTotpSecret } = await ensureDemoCredentials(deps, seed);
await run(deps, 'all');
// Four eyes even in the demo: the editor drafts and submits, a different person approves.
const sent = seed.created ? await sendDemoNotice(deps, seed) : null;
console.log(`
Candor demo is running.

  Status page:      ${config.publicBaseUrl}/incidents/${seed.incident.slug}
  In French:        ${config.publicBaseUrl}/incidents/${seed.incident.slug}?lang=fr
  Sandbox outbox:   ${config.publicBaseUrl}/sandbox/outbox
  Health:           ${config.publicBaseUrl}/readyz

  Staff console:    ${config.publicBaseUrl}/console
    Editor:         ${DEMO_STAFF.editor}    password: ${DEMO_PASSWORD}
    Approver:       ${DEMO_STAFF.approver}  password: ${DEMO_PASSWORD}
                    the approver also needs a 6-digit code: add this key to an authenticator app
                    ${approverTotpSecret}
                    or open ${totpUri(approverTotpSecret, DEMO_STAFF.approver)}
    Admin:          ${DEMO_STAFF.admin}     password: ${DEMO_PASSWORD}
                    staff, support queue, audit log and queues; its authenticator key:
                    ${adminTotpSecret}
                    or open ${totpUri(adminTotpSecret, DEMO_STAFF.admin)}

${
  sent
    ? `The demo notice is being sent to every seeded person through the sandbox provider.\n${describeCallingHours(sent.plan, process.env.CALLING_HOURS)}`
    : 'The demo incident already existed; its notice was sent on an earlier run.'
}
Press Ctrl+C to stop.
`);
