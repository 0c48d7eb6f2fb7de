import { parseArgs } from 'node:util';
import { loadEnvironment, configOrExit, servicesOrExit } from './startup.js';
import { createDeps } from './deps.js';
import { migrate } from './platform/db.js';
import { createLogger } from './platform/logger.js';
import { seedDemo } from './demo/seed.js';
import { uploadCodesFromFile } from './codes/cli.js';

const USAGE = `Usage: npx candor <command>

Commands:
  migrate      apply pending database migrations
  seed-demo    create the demo incident, people and staff (idempotent)
  upload-codes <pool id> <file.csv>
               add a vendor's codes to a code pool (a header line naming a code column; all or nothing)
`;

loadEnvironment();
const { positionals } = parseArgs({ allowPositionals: true, strict: false });
const command = positionals[0];
if (!command || command === 'help') {
  console.log(USAGE);
  process.exit(command ? 0 : 1);
}
const config = configOrExit();
await servicesOrExit(config);
switch (command) {
  case 'migrate': {
    const applied = await migrate(config.databaseUrl, createLogger({ level: 'warn' }));
    console.log(
      applied.length > 0
        ? `Applied ${applied.length} migration(s): ${applied.join(', ')}`
        : 'Database is up to date.',
    );
    break;
  }
  case 'seed-demo': {
    const deps = await createDeps(config);
    const seed = await seedDemo(deps);
    console.log(
      seed.created
        ? `Created demo incident ${seed.incident.slug}.`
        : `Demo incident ${seed.incident.slug} already exists.`,
    );
    await deps.close();
    break;
  }
  case 'upload-codes': {
    const deps = await createDeps(config);
    const outcome = await uploadCodesFromFile(deps, positionals[1], positionals[2]);
    await deps.close();
    if (!outcome.ok) {
      console.error(outcome.message);
      process.exit(1);
    }
    console.log(outcome.message);
    break;
  }
  default:
    console.error(`Unknown command: ${command}\n\n${USAGE}`);
    process.exit(1);
}
