import { loadEnvironment, startOrExit } from '../src/startup.js';

// `npm run worker`: workers only, to scale sending apart from the web side.
loadEnvironment();
await startOrExit('worker');
