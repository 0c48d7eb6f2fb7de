import { loadEnvironment, configOrExit, servicesOrExit } from './startup.js';
import { createDeps } from './deps.js';
import { migrate } from './platform/db.js';
import { createLogger } from './platform/logger.js';
import { run } from './server.js';
import { ensureDemoCredentials, seedDemo } from './demo/seed.js';
import { describeDemoAccess } from './demo/access.js';
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

${describeDemoAccess({ publicBaseUrl: config.publicBaseUrl, slug: seed.incident.slug, approverTotpSecret, adminTotpSecret })}

${
  sent
    ? `The demo notice is being sent to every seeded person through the sandbox provider.\n${describeCallingHours(sent.plan, process.env.CALLING_HOURS)}`
    : 'The demo incident already existed; its notice was sent on an earlier run.'
}
Press Ctrl+C to stop.
`);
