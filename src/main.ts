import { loadEnvironment, startOrExit } from './startup.js';
import type { Role } from './server.js';

// `npm start` runs web and workers in one process; `npm run web` only the web side.
const role: Role = process.argv[2] === 'web' ? 'web' : 'all';
loadEnvironment();
await startOrExit(role);
