import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm run bench [name…]`: runs every `bench/*.bench.ts` (or those whose names start with the given
 * words), one after the other, each in a process of its own so one benchmark's memory and warm
 * caches do not colour the next. Figures are printed, never asserted.
 */
const dir = path.dirname(fileURLToPath(import.meta.url));
const tsx = path.join(dir, '../node_modules/.bin/tsx');
const wanted = process.argv.slice(2);
const benches = fs
  .readdirSync(dir)
  .filter((file) => file.endsWith('.bench.ts'))
  .filter((file) => wanted.length === 0 || wanted.some((name) => file.startsWith(name)))
  .sort();

if (benches.length === 0) {
  console.error(
    `No benchmark matches ${wanted.join(', ')}. There are: ${fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.bench.ts'))
      .join(', ')}`,
  );
  process.exit(1);
}

let failed = 0;
for (const bench of benches) {
  console.log(`\n=== ${bench}`);
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(tsx, [path.join(dir, bench)], { stdio: 'inherit', env: process.env });
    child.once('exit', resolve);
  });
  if (code !== 0) {
    failed += 1;
    console.error(`${bench} exited with ${code}`);
  }
}
process.exit(failed > 0 ? 1 : 0);
