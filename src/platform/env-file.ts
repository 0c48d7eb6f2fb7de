import fs from 'node:fs';
import { parseEnv } from 'node:util';

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
