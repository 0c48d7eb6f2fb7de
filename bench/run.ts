import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

/**
 * `npm run bench [name…]`: runs every `bench/*.bench.ts` (or those whose names start with the given
 * words), one after the other, each in a process of its own so one benchmark's memory and warm
 * caches do not colour the next. Figures are printed, never asserted.
 *
 * Each benchmark ends with one line `name: figure (ratio × baseline, goal …)`; this collects those
 * lines, with each benchmark's wall time and the load average around it, into one summary at the
 * end, which is what a closing note or an issue quotes. A benchmark that runs past
 * BENCH_EACH_TIMEOUT_SECONDS is stopped and reported, so the whole run has a bound.
 */
const dir = path.dirname(fileURLToPath(import.meta.url));
const tsx = path.join(dir, '../node_modules/.bin/tsx');
const wanted = process.argv.slice(2);
/** Generous for the largest default run (the campaign at 100,000 people) on a loaded machine. */
const EACH_TIMEOUT_MS = Number(process.env.BENCH_EACH_TIMEOUT_SECONDS ?? 600) * 1000;
const all = fs.readdirSync(dir).filter((file) => file.endsWith('.bench.ts'));
const benches = all
  .filter((file) => wanted.length === 0 || wanted.some((name) => file.startsWith(name)))
  .sort();

if (benches.length === 0) {
  console.error(`No benchmark matches ${wanted.join(', ')}. There are: ${all.join(', ')}`);
  process.exit(1);
}

const loadAverage = () =>
  os
    .loadavg()
    .map((n) => n.toFixed(2))
    .join(' ');

interface Outcome {
  bench: string;
  seconds: number;
  lastLine: string;
  loadBefore: string;
  problem: string | null;
}

/** The benchmark running now, in its own process group: Ctrl-C here stops it and its servers too. */
let current: number | undefined;
process.once('SIGINT', () => {
  if (current) process.kill(-current, 'SIGKILL');
  process.exit(130);
});

/** Runs one benchmark with its output passed through, keeping its last non-empty line. */
function runOne(bench: string): Promise<Outcome> {
  const started = Date.now();
  const loadBefore = loadAverage();
  const child = spawn(tsx, [path.join(dir, bench)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: process.env,
    detached: true,
  });
  current = child.pid;
  let lastLine = '';
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    console.log(line);
    if (line.trim()) lastLine = line.trim();
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    // The whole process group: a benchmark's own servers and workers go with it.
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  }, EACH_TIMEOUT_MS);
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const problem = timedOut
        ? `stopped after ${EACH_TIMEOUT_MS / 1000} s (BENCH_EACH_TIMEOUT_SECONDS)`
        : code === 0
          ? null
          : `exited with ${code ?? signal}`;
      resolve({ bench, seconds: (Date.now() - started) / 1000, lastLine, loadBefore, problem });
    });
  });
}

const startedAll = Date.now();
const outcomes: Outcome[] = [];
for (const bench of benches) {
  console.log(`\n=== ${bench} (load average ${loadAverage()})`);
  outcomes.push(await runOne(bench));
}

console.log(`\n=== summary: ${os.cpus().length} cores, ${new Date().toISOString()}`);
for (const outcome of outcomes) {
  const status = outcome.problem ? `FAILED, ${outcome.problem}` : outcome.lastLine;
  console.log(`${outcome.bench} [${outcome.seconds.toFixed(0)} s, load ${outcome.loadBefore}]`);
  console.log(`  ${status}`);
}
console.log(`all benchmarks: ${((Date.now() - startedAll) / 1000).toFixed(0)} s (goal < 900 s)`);
process.exit(outcomes.some((o) => o.problem) ? 1 : 0);
