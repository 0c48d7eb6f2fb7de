import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { parseConfig } from '../src/config.js';
import { createDeps } from '../src/deps.js';
import { createWebListener } from '../src/app.js';
import { createLogger } from '../src/platform/logger.js';

// One server under load for bench/status-page.bench.ts, in a process of its own so the load generator
// does not share its event loop: `hello` is a bare Express route, `raw` a bare node:http listener (the
// floor), `candor` the real web listener (STATUS_PAGE_FAST_PATH=off: Express alone).
const mode = process.argv[2];
let handler: http.RequestListener;
let close: () => Promise<void> = () => Promise.resolve();
if (mode === 'hello') {
  const app = express();
  app.get('/hello', (_req, res) => {
    res.send('hello');
  });
  handler = app;
} else if (mode === 'raw') {
  handler = (_req, res) => {
    res.end('hello');
  };
} else {
  const deps = await createDeps(parseConfig(process.env), { logger: createLogger({ level: 'silent' }) });
  handler = createWebListener(deps, {
    statusPageFastPath: process.env.STATUS_PAGE_FAST_PATH !== 'off',
  });
  close = () => deps.close();
}
const server = http.createServer(handler);
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void close().then(() => process.exit(0));
});
