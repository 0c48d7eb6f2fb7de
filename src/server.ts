import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Deps } from './deps.js';
import { createOpsApp, createWebListener } from './app.js';
import { prepareFonts } from './web/fonts.js';
import { createWorkers, type Workers } from '../workers/index.js';

export type Role = 'web' | 'worker' | 'all';

/** How long a process may take to shut down before it exits anyway (supervisors SIGKILL at 30 s). */
export const SHUTDOWN_TIMEOUT_MS = 25_000;

/**
 * Starts web and/or workers on shared deps and shuts them down in order on SIGTERM/SIGINT:
 * stop accepting requests, let workers finish or hand back their jobs, then close Redis and PostgreSQL.
 */
export async function run(
  deps: Deps,
  role: Role,
): Promise<{ server: http.Server | null; workers: Workers | null; stop(): Promise<void> }> {
  const workers = role === 'web' ? null : createWorkers(deps);
  const servers: http.Server[] = [];
  const listen = async (app: http.RequestListener, port: number, host?: string) => {
    const listening = http.createServer(app);
    await new Promise<void>((resolve) => listening.listen(port, host, resolve));
    servers.push(listening);
    // The port actually bound (0 picks a free one), so a supervisor or a test can find it in the log.
    return (listening.address() as AddressInfo).port;
  };
  let server: http.Server | null = null;
  if (role !== 'worker') {
    const port = await listen(createWebListener(deps), deps.config.port, deps.config.listenHost);
    server = servers[0] ?? null;
    deps.logger.info(
      { port, host: deps.config.listenHost ?? 'all interfaces', url: deps.config.publicBaseUrl },
      'web listening',
    );
    // In the background: pages are served meanwhile, and a font asked for first is cut first.
    void prepareFonts().catch((error: Error) =>
      deps.logger.warn({ err: error.message }, 'web fonts not prepared; they are cut on first request'),
    );
    if (deps.config.metricsPort > 0) {
      // Loopback only: a scraper on this machine reads metrics without a token, nobody else can.
      const metricsPort = await listen(createOpsApp(deps), deps.config.metricsPort, '127.0.0.1');
      deps.logger.info({ port: metricsPort }, 'metrics listening on 127.0.0.1');
    }
  } else if (deps.config.workerHttpPort > 0) {
    // A worker-only process has no web app, but an orchestrator still wants health and metrics.
    const port = await listen(createOpsApp(deps), deps.config.workerHttpPort);
    server = servers[0] ?? null;
    deps.logger.info({ port }, 'worker health and metrics listening');
  }
  let stopping: Promise<void> | null = null;
  let step = 'closing the HTTP servers';
  const stop = () =>
    (stopping ??= (async () => {
      deps.logger.info('shutting down');
      await Promise.all(
        servers.map(async (closing) => {
          await new Promise<void>((resolve) => closing.close(() => resolve()));
          closing.closeIdleConnections();
        }),
      );
      step = 'workers finishing or handing back their jobs';
      await workers?.close();
      step = 'closing queues, Redis and PostgreSQL';
      await deps.close();
      deps.logger.info('stopped');
    })());
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      // Closing waits on Redis (BullMQ) and PostgreSQL; with one of them away it could wait for ever.
      // A job not handed back returns to its queue once its lock lapses, so giving up loses nothing.
      setTimeout(() => {
        deps.logger.error({ waitingFor: step, afterMs: SHUTDOWN_TIMEOUT_MS }, 'shutdown timed out');
        process.exit(1);
      }, SHUTDOWN_TIMEOUT_MS).unref();
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
