import { ConfigError, parseConfig, type Config } from './config.js';
import { createDeps } from './deps.js';
import { checkServices } from './platform/preflight.js';
import { run, type Role } from './server.js';

export { loadEnvironment } from './platform/env-file.js';

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
