import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { Config } from '../../src/config.js';
import { eventually } from './context.js';

/**
 * Real processes for tests that kill, flush or restart things: worker processes started the way
 * operators start them, and private Redis and PostgreSQL servers, so a test may flush or restart
 * them without touching the shared ones other test files use.
 */
/**
 * The environment for the servers tests start (Redis, PostgreSQL, their tools): without libfaketime.
 * The night-time check runs the tests under `faketime -f '+12h'` to move Candor's clock; a server
 * under it hangs (redis-server never answers), and the servers' clocks are not what is tested.
 */
const SERVER_ENV = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => name !== 'LD_PRELOAD' && !name.startsWith('FAKETIME')),
);
/** The same variables, for Candor's own processes: they must keep the clock the test runs on. */
const CLOCK_ENV = Object.fromEntries(
  Object.entries(process.env).filter(
    (entry): entry is [string, string] =>
      (entry[0] === 'LD_PRELOAD' || entry[0].startsWith('FAKETIME')) && entry[1] !== undefined,
  ),
);
const execFileAsync = promisify(execFile);
const run = (command: string, args: string[], options: { timeout?: number } = {}) =>
  execFileAsync(command, args, { ...options, env: SERVER_ENV });
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface WorkerProcess {
  child: ChildProcess;
  /** Sends SIGKILL: no shutdown, no hand-back, exactly like a crashed machine. */
  kill(): void;
  /** Sends SIGTERM and resolves with the exit code once it has shut down. */
  stop(): Promise<number | null>;
  output(): string;
}

/**
 * `npm run worker`, as a separate process, with the given environment: the same command the
 * script execs, so signals reach Candor's own handlers (the tsx CLI wrapper would SIGKILL its child
 * when it cannot confirm the child got a signal).
 */
export function startWorkerProcess(env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'workers/main.ts'], {
    cwd: ROOT,
    // Any hour is calling hours unless the test says otherwise: the suite must pass at night too.
    env: {
      ...CLOCK_ENV,
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      CALLING_HOURS: '00:00-24:00',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    kill: () => child.kill('SIGKILL'),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      return exited;
    },
    output: () => output,
  };
}

export interface PrivateRedis {
  url: string;
  flushAll(): Promise<void>;
  /** Stops the server, keeping its port for `startAgain`, which comes back empty (no persistence). */
  halt(): Promise<void>;
  startAgain(): Promise<void>;
  stop(): Promise<void>;
}

/** A throwaway redis-server on a free port, without persistence (a flush or restart loses everything). */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const admin = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 50 });
  admin.on('error', () => undefined);
  let child: ChildProcess | null = null;
  const start = async () => {
    // Starting a second server on the port would fail to bind and orphan the first.
    if (child && child.exitCode === null && child.signalCode === null) return;
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore', env: SERVER_ENV },
    );
    await eventually('private redis to answer', async () => (await admin.ping()) === 'PONG', 10_000);
  };
  const halt = async () => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    url,
    async flushAll() {
      await admin.flushall();
    },
    halt,
    startAgain: start,
    async stop() {
      admin.disconnect();
      await halt();
    },
  };
}

/** Whether redis-server is installed here (the Redis Cluster test needs it; without it, it is skipped). */
export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore', env: SERVER_ENV }).status === 0;
}

export interface PrivateRedisCluster {
  nodes: { host: string; port: number }[];
  /** One plain connection per node, to ask each node what it holds. */
  admins: Redis[];
  /** Kills every node and removes the temporary directory. */
  stop(): Promise<void>;
}

/** A free port whose cluster bus port (port + 10000) is free too. */
async function freeClusterPort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port + 10_000 > 65_535) continue;
    const busFree = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port + 10_000, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (busFree) return port;
  }
}

/**
 * A throwaway Redis Cluster: `size` cluster-enabled redis-server processes on free loopback ports,
 * their state in a temporary directory, joined with `redis-cli --cluster create` (masters only, the
 * slots split evenly). Everything started is killed and removed again, also when start-up fails.
 */
export async function startPrivateRedisCluster(size = 3): Promise<PrivateRedisCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'candor-redis-cluster-'));
  const children: ChildProcess[] = [];
  const admins: Redis[] = [];
  const nodes: { host: string; port: number }[] = [];
  const stop = async () => {
    for (const admin of admins) admin.disconnect();
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }),
    );
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < size; i += 1) {
      const port = await freeClusterPort();
      nodes.push({ host: '127.0.0.1', port });
      children.push(
        spawn(
          'redis-server',
          [
            '--port',
            String(port),
            '--bind',
            '127.0.0.1',
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            `nodes-${port}.conf`,
            '--cluster-node-timeout',
            '5000',
            '--dir',
            dir,
            '--save',
            '',
            '--appendonly',
            'no',
          ],
          { stdio: 'ignore', env: SERVER_ENV },
        ),
      );
      const admin = new Redis(port, '127.0.0.1', {
        lazyConnect: true,
        maxRetriesPerRequest: 1,
        retryStrategy: () => 50,
      });
      admin.on('error', () => undefined);
      admins.push(admin);
    }
    await Promise.all(
      admins.map((admin, i) =>
        eventually(`cluster node ${i + 1} to answer`, async () => (await admin.ping()) === 'PONG', 10_000),
      ),
    );
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...nodes.map((node) => `${node.host}:${node.port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { timeout: 30_000 },
    );
    // Every node must see the whole cluster with every slot served before a client may rely on it.
    await eventually(
      'the redis cluster to be ok on every node',
      async () => {
        const infos = await Promise.all(admins.map((admin) => admin.cluster('INFO')));
        return infos.every(
          (info) =>
            info.includes('cluster_state:ok') &&
            info.includes(`cluster_known_nodes:${size}`) &&
            info.includes('cluster_slots_ok:16384'),
        );
      },
      30_000,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes, admins, stop };
}

export interface PrivatePostgres {
  url: string;
  /** Stops the server (fast: open connections are cut) and starts it again. */
  restart(): Promise<void>;
  /** Stops the server as a crash would (immediate), keeping its data for `startAgain`. */
  halt(): Promise<void>;
  startAgain(): Promise<void>;
  /** Stops the server and removes its data. */
  stop(): Promise<void>;
}

function postgresBin(name: string): string {
  const versions = fs.readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
  return path.join('/usr/lib/postgresql', versions[0] ?? '', 'bin', name);
}

/**
 * A throwaway PostgreSQL cluster in a temporary directory, on a free port. initdb refuses to run as
 * root, so when the tests run as root the cluster belongs to the `postgres` OS user.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'candor-pg-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) await run('chown', ['postgres:postgres', dir]);
  const as = (command: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', command, ...args]) : run(command, args);
  const data = path.join(dir, 'data');
  await as(postgresBin('initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  // fsync off for speed: a commit still reaches the OS before it is acknowledged, so a crash of the
  // server (`halt`) loses nothing acknowledged, as in production. Not synchronous_commit=off: with it,
  // an immediate stop dropped the last commits, and receipts answered 2xx vanished from the test.
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
  const pgCtl = (...args: string[]) =>
    as(postgresBin('pg_ctl'), ['-D', data, '-l', path.join(dir, 'log'), '-o', options, ...args]);
  await pgCtl('start', '-w');
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async restart() {
      await pgCtl('restart', '-m', 'fast', '-w');
    },
    async halt() {
      await pgCtl('stop', '-m', 'immediate', '-w');
    },
    async startAgain() {
      await pgCtl('start', '-w');
    },
    async stop() {
      await pgCtl('stop', '-m', 'immediate', '-w').catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

const WEB_PROCESS_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'web-process.ts');

export interface WebProcess {
  baseUrl: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts another web process on the same PostgreSQL schema, Redis and queue prefix as `config`. */
export async function startWebProcess(config: Config, env: Record<string, string> = {}): Promise<WebProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', WEB_PROCESS_SCRIPT], {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      DATABASE_URL: config.databaseUrl,
      REDIS_URL: config.redisUrl,
      REDIS_CLUSTER_NODES: config.redisClusterNodes.map((node) => `${node.host}:${node.port}`).join(','),
      QUEUE_PREFIX: config.queues.prefix,
      PUBLIC_BASE_URL: config.publicBaseUrl,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`web process did not start: ${errors}`)), 30_000);
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening (\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`web process exited with ${code}: ${errors}`));
    });
  });
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    child,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface CandorProcess {
  baseUrl: string;
  child: ChildProcess;
  /** Everything it printed (JSON log lines): to look for what it said, or for why it died. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * `npm run web` as operators run it (`src/main.ts web`, the real start-up path), on a free port it
 * reports in its log. Unlike startWebProcess it goes through start-up checks, so it shows how Candor
 * starts with a service down.
 */
export async function startCandorWeb(env: Record<string, string>): Promise<CandorProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'web'], {
    cwd: ROOT,
    env: {
      ...CLOCK_ENV,
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exitedEarly = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`web process exited with ${code}:\n${output}`))),
  );
  const port = await Promise.race([
    exitedEarly,
    eventually(
      'the web process to listen',
      () => Promise.resolve(/"port":(\d+)[^\n]*"msg":"web listening"/.exec(output)?.[1]),
      60_000,
    ),
  ]).then(Number);
  exitedEarly.catch(() => undefined);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
