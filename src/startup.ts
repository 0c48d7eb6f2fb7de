import fs from 'node:fs';
import { parseEnv } from 'node:util';
import { ConfigError, parseConfig, type Config } from './config.js';
import { createDeps } from './deps.js';
import { checkServices } from './platform/preflight.js';
import { run, type Role } from './server.js';

/**
 * Reads `.env` when there is one, then each file CANDOR_ENV_FILE names (comma separated: the Docker
 * setup's generated secrets). A variable already set wins; an empty one counts as unset, as it does in
 * the configuration, so a `.env` copied from .env.example with `ENCRYPTION_KEY=` does not hide one.
 */
export function loadEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  const fill = (file: string) => {
    if (!fs.existsSync(file)) return;
    for (const [key, value] of Object.entries(parseEnv(fs.readFileSync(file, 'utf8')))) {
      if (!env[key] && value !== undefined) env[key] = value;
    }
  };
  fill('.env');
  for (const file of (env.CANDOR_ENV_FILE ?? '').split(',')) if (file.trim()) fill(file.trim());
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

/**
 * Web and workers start whether or not PostgreSQL and Redis are up: a supervisor restarting a process
 * that exits for want of them would turn a short database restart into a long outage, and the status
 * page can be served from its snapshot meanwhile. They say what is missing and connect once it is there;
 * `/readyz` answers 503 until then.
 */
export async function startOrExit(role: Role) {
  const config = configOrExit();
  const problems = await checkServices(config);
  if (problems.length > 0)
    console.warn(
      `Candor is starting without a service it needs; it will connect once it is up.\n\n${problems.join('\n\n')}\n`,
    );
  const deps = await createDeps(config);
  return { deps, ...(await run(deps, role)) };
}
