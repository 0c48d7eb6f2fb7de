#!/usr/bin/env node
// `npx candor <command>`: runs the TypeScript CLI through tsx, as `npm start` does.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
