import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { parseConfig } from '../../src/config.js';
import { createDeps } from '../../src/deps.js';
import { run } from '../../src/server.js';
import { createLogger } from '../../src/platform/logger.js';

/**
 * One server under load for bench/webhooks.bench.ts, in a process of its own so the load generator
 * does not share its event loop. `candor` is the real web process (src/server.ts, real deps, from the
 * environment); `bare` is Express answering the same two webhook paths after parsing the same bodies
 * with the same parsers, and nothing else. Prints `listening <port>`.
 */
const mode = process.argv[2];
let server: http.Server;
if (mode === 'bare') {
  const app = express();
  app.post('/webhooks/sendgrid', express.raw({ type: '*/*', limit: '5mb' }), (req, res) => {
    const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const events: unknown = JSON.parse(rawBody.toString('utf8'));
    res.status(Array.isArray(events) ? 204 : 400).end();
  });
  app.post('/webhooks/twilio/status', express.urlencoded({ extended: false, limit: '100kb' }), (req, res) => {
    const params = (req.body ?? {}) as Record<string, string>;
    res.status(params.MessageSid ? 204 : 400).end();
  });
  server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
} else {
  // run() stops the web process on SIGTERM as in production: stop accepting, close Redis and PostgreSQL.
  const deps = await createDeps(parseConfig({ ...process.env, PORT: '0' }), {
    logger: createLogger({ level: 'silent' }),
  });
  const web = await run(deps, 'web');
  if (!web.server) throw new Error('the web role started no server');
  server = web.server;
}
process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
