import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Deps } from './deps.js';
import { createApp, createWorkerHttpApp } from './app.js';
import { createWorkers, type Workers } from '../workers/index.js';

export type Role = 'web' | 'worker' | 'all';

/**
 * Starts web and/or workers on shared deps and shuts them down in order on SIGTERM/SIGINT:
 * stop accepting requests, let workers finish or hand back their jobs, then close Redis and PostgreSQL.
 */
export async function run(
  deps: Deps,
  role: Role,
): Promise<{ server: http.Server | null; workers: Workers | null; stop(): Promise<void> }> {
  const workers = role === 'web' ? null : createWorkers(deps);
  let server: http.Server | null = null;
  if (role !== 'worker') {
    server = http.createServer(createApp(deps));
    const listening = server;
    await new Promise<void>((resolve) => listening.listen(deps.config.port, resolve));
    // The port actually bound (PORT=0 picks a free one), so a supervisor or a test can find it in the log.
    deps.logger.info(
      { port: (listening.address() as AddressInfo).port, url: deps.config.publicBaseUrl },
      'web listening',
    );
  } else if (deps.config.workerHttpPort > 0) {
    // A worker-only process has no web app, but an orchestrator still wants health and metrics.
    server = http.createServer(createWorkerHttpApp(deps));
    const listening = server;
    await new Promise<void>((resolve) => listening.listen(deps.config.workerHttpPort, resolve));
    deps.logger.info({ port: deps.config.workerHttpPort }, 'worker health and metrics listening');
  }
  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      deps.logger.info('shutting down');
      if (server) {
        const closing = server;
        await new Promise<void>((resolve) => closing.close(() => resolve()));
        closing.closeIdleConnections();
      }
      await workers?.close();
      await deps.close();
      deps.logger.info('stopped');
    })());
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void stop().then(
        () => process.exit(0),
        (error: unknown) => {
          deps.logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
  return { server, workers, stop };
}
