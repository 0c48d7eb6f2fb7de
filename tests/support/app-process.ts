import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseConfig } from '../../src/config.js';
import { createDeps } from '../../src/deps.js';
import { createWebListener } from '../../src/app.js';
import { createLogger } from '../../src/platform/logger.js';

/**
 * A whole Candor web process for tests that need more than one (started with `npx tsx`): real config
 * from the environment, its own deps and connection pools, listening on a free loopback port, which
 * it reports on stdout as `listening <port>`.
 */
const config = parseConfig(process.env);
const deps = await createDeps(config, {
  logger: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
});
const server = http.createServer(createWebListener(deps));
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => {
  server.close(() => {
    void deps.close().then(() => process.exit(0));
  });
  server.closeAllConnections();
});
