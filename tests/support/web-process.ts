import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseConfig } from '../../src/config.js';
import { createDeps } from '../../src/deps.js';
import { createWebListener } from '../../src/app.js';
import { createLogger } from '../../src/platform/logger.js';

// A second web process for tests that need two (rate limits held in Redis): configured entirely by the
// environment the test passes, it prints its port and stops on SIGTERM.
const config = parseConfig(process.env);
const deps = await createDeps(config, { logger: createLogger({ level: 'silent' }) });
const server = http.createServer(createWebListener(deps));
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void deps.close().then(() => process.exit(0));
});
