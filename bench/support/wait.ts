import { spawn } from 'node:child_process';

/**
 * Every wait in a benchmark has a deadline and says what it was waiting for: a benchmark that hangs
 * (SMS held for calling hours, a server that never started) must fail with a sentence, not run for ever.
 */

/** Polls `check` every 100 ms until it is true, or throws naming `what` once `timeoutMs` has passed. */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** `promise`, or an error naming `what` if it has not settled within `timeoutMs`. */
export async function withTimeout<T>(what: string, promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts `node --import tsx script ...args` and resolves with the port once it prints `listening <port>`;
 * fails if it exits first or has not listened within `timeoutMs`. `stop()` sends SIGTERM and waits.
 * BENCH_SERVER_NODE_ARGS adds Node options to the server alone (Node refuses some in NODE_OPTIONS),
 * e.g. `--cpu-prof --cpu-prof-dir=/tmp/profiles` to profile the web process under load.
 */
export async function startListeningProcess(
  what: string,
  script: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<{ port: number; stop(): Promise<void> }> {
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await withTimeout(
    `${what} to listen`,
    new Promise<number>((resolve, reject) => {
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening (\d+)/.exec(output);
        if (match) resolve(Number(match[1]));
      });
      child.once('exit', (code) => reject(new Error(`${what} exited with ${code}`)));
    }),
    timeoutMs,
  ).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  return {
    port,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
