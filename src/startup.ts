import fs from 'node:fs';
import { ConfigError, parseConfig, type Config } from './config.js';
import { createDeps } from './deps.js';
import { migrate } from './platform/db.js';
import { createLogger } from './platform/logger.js';
import { checkServices } from './platform/preflight.js';
import { run, type Role } from './server.js';

/** Reads `.env` when there is one; real environment variables win. */
export function loadEnvironment(): void {
  if (fs.existsSync('.env')) process.loadEnvFile('.env');
}

export function configOrExit(): Config {
  try {
    return parseConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}

export async function servicesOrExit(config: Config): Promise<void> {
  const problems = await checkServices(config);
  if (problems.length > 0) {
    console.error(`Candor needs PostgreSQL and Redis.\n\n${problems.join('\n\n')}\n`);
    process.exit(1);
  }
}

export async function startOrExit(role: Role, options: { migrate?: boolean } = {}) {
  const config = configOrExit();
  await servicesOrExit(config);
  if (options.migrate) await migrate(config.databaseUrl, createLogger({ level: config.logLevel }));
  const deps = await createDeps(config);
  return { deps, ...(await run(deps, role)) };
}
