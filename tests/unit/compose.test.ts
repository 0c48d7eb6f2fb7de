import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { newSecrets, parseConfig, REQUIRED_IN_PRODUCTION } from '../../src/config.js';

/**
 * Docker cannot run where the tests run, so the compose file is checked against what Candor itself
 * requires: the configuration's own rules, the services the URLs name, the start order, the health
 * checks and the proxy in front. A fresh checkout has no .env: variables interpolate to their defaults.
 */
const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

/** Compose's `${NAME:-default}` and `${NAME}` interpolation, with nothing set (no .env, no shell variables). */
function interpolate(text: string, env: Record<string, string> = {}): string {
  return text.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g,
    (_, name: string, fallback?: string) => env[name] || fallback || '',
  );
}

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string | number | boolean>;
  env_file?: unknown;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  ports?: string[];
  expose?: string[];
  volumes?: string[];
  restart?: string;
}

function loadCompose(file = 'docker-compose.yml'): Record<string, Service> {
  const document = parse(interpolate(read(file)), { merge: true }) as { services: Record<string, Service> };
  return document.services;
}

function service(services: Record<string, Service>, name: string): Service {
  const found = services[name];
  if (!found) throw new Error(`docker-compose.yml has no ${name} service`);
  return found;
}

function environmentOf(svc: Service): Record<string, string> {
  return Object.fromEntries(
    Object.entries(svc.environment ?? {}).map(([key, value]) => [key, String(value)]),
  );
}

/** The ENV lines of the Dockerfile: what every container starts with before compose adds its own. */
function dockerfileEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of read('Dockerfile').split('\n')) {
    const match = /^ENV\s+([A-Z_]+)=(\S+)/.exec(line);
    if (match) env[match[1]!] = match[2]!;
  }
  return env;
}

/** Where the secrets service writes: the file after `generate-secrets --file`. */
function generatedSecretsFile(services: Record<string, Service>): string | undefined {
  const command = services.secrets?.command ?? [];
  return command.includes('generate-secrets') ? command[command.indexOf('--file') + 1] : undefined;
}

/**
 * The environment an app container's process sees: the image's, then compose's, then (when it reads
 * the file the secrets service writes) the generated secrets, which fill only what is still unset.
 */
function containerEnvironment(services: Record<string, Service>, name: string): Record<string, string> {
  const env = { ...dockerfileEnvironment(), ...environmentOf(service(services, name)) };
  const file = generatedSecretsFile(services);
  if (file && env.CANDOR_ENV_FILE?.split(',').includes(file))
    for (const [key, value] of Object.entries(newSecrets())) env[key] ||= value;
  return env;
}

const byImage = (services: Record<string, Service>, image: string) =>
  Object.entries(services).find(([, svc]) => svc.image?.split(':')[0] === image)?.[0];

/** The port a health check fetches, and its path. */
function healthTarget(svc: Service): URL {
  const script = (svc.healthcheck?.test ?? []).join(' ');
  const url = /https?:\/\/[^'"\s)]+/.exec(script)?.[0];
  if (!url) throw new Error(`no health check URL in ${script || 'a missing health check'}`);
  return new URL(url);
}

const APP_SERVICES = ['migrate', 'web', 'worker'];

describe('docker-compose.yml', () => {
  it('starts from a fresh checkout: .env is optional and the secrets are generated on first start', () => {
    const services = loadCompose();
    for (const [name, svc] of Object.entries(services)) {
      const files = svc.env_file === undefined ? [] : [svc.env_file].flat();
      for (const file of files)
        expect(file, `${name}'s env_file must not be required`).toMatchObject({ required: false });
    }
    const file = generatedSecretsFile(services);
    expect(file, 'a secrets service runs generate-secrets --file <absolute path>').toMatch(/^\//);
    for (const name of APP_SERVICES) {
      const env = environmentOf(service(services, name));
      expect(env.CANDOR_ENV_FILE, `${name} reads the generated secrets`).toBe(file);
      const mounted = (service(services, name).volumes ?? []).some((volume) =>
        file!.startsWith(`${volume.split(':')[1]}/`),
      );
      expect(mounted, `${name} mounts the volume holding ${file}`).toBe(true);
    }
    // web and worker wait for migrate (below), which waits for the secrets.
    expect(service(services, 'migrate').depends_on?.secrets).toEqual({
      condition: 'service_completed_successfully',
    });
  });

  it('gives web, worker and migrate every setting production requires, valid as the configuration reads it', () => {
    const services = loadCompose();
    for (const name of APP_SERVICES) {
      const env = containerEnvironment(services, name);
      expect(env.NODE_ENV, `${name} runs in production`).toBe('production');
      for (const key of REQUIRED_IN_PRODUCTION) expect(env[key], `${name} gets ${key}`).toBeTruthy();
      // Throws, listing every problem, if anything required is missing or malformed.
      const config = parseConfig(env);
      expect(config.listenHost, `${name} listens beyond loopback, so the proxy can reach it`).toBeUndefined();
    }
  });

  it('points DATABASE_URL and REDIS_URL at the PostgreSQL and Redis services, with their credentials', () => {
    const services = loadCompose();
    const postgresName = byImage(services, 'postgres');
    const redisName = byImage(services, 'redis');
    expect(postgresName, 'a postgres service').toBeDefined();
    expect(redisName, 'a redis service').toBeDefined();
    const postgres = environmentOf(service(services, postgresName!));
    for (const name of APP_SERVICES) {
      const config = parseConfig(containerEnvironment(services, name));
      const database = new URL(config.databaseUrl);
      expect(database.hostname).toBe(postgresName);
      expect(database.port || '5432').toBe('5432');
      expect(decodeURIComponent(database.username)).toBe(postgres.POSTGRES_USER);
      expect(decodeURIComponent(database.password)).toBe(postgres.POSTGRES_PASSWORD);
      expect(database.pathname.slice(1)).toBe(postgres.POSTGRES_DB);
      const redis = new URL(config.redisUrl);
      expect(redis.hostname).toBe(redisName);
      expect(redis.port || '6379').toBe('6379');
    }
  });

  it('runs the migration to completion before web and workers start, once PostgreSQL and Redis are healthy', () => {
    const services = loadCompose();
    expect(service(services, 'migrate').command).toEqual(expect.arrayContaining(['migrate']));
    expect(service(services, 'migrate').depends_on).toMatchObject({
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
    });
    // A one-off that restarted would never count as completed, and web and workers would never start.
    for (const name of ['secrets', 'migrate']) expect(service(services, name).restart, name).toBe('no');
    for (const name of ['web', 'worker'])
      expect(service(services, name).depends_on?.migrate, `${name} waits for migrate`).toEqual({
        condition: 'service_completed_successfully',
      });
  });

  it('checks web on /readyz at its PORT and each worker on /readyz at its WORKER_HTTP_PORT', () => {
    const services = loadCompose();
    const web = parseConfig(containerEnvironment(services, 'web'));
    const webCheck = healthTarget(service(services, 'web'));
    expect(webCheck.pathname).toBe('/readyz');
    expect(Number(webCheck.port)).toBe(web.port);
    const worker = parseConfig(containerEnvironment(services, 'worker'));
    expect(
      worker.workerHttpPort,
      'a worker-only process serves health only with WORKER_HTTP_PORT',
    ).toBeGreaterThan(0);
    const workerCheck = healthTarget(service(services, 'worker'));
    expect(workerCheck.pathname).toBe('/readyz');
    expect(Number(workerCheck.port)).toBe(worker.workerHttpPort);
  });

  it('keeps Redis on disk (AOF) and never lets it evict a queued job', () => {
    const redis = service(loadCompose(), 'redis');
    const command = (redis.command ?? []).join(' ');
    expect(command).toMatch(/--appendonly yes/);
    expect(command).toMatch(/--maxmemory-policy noeviction/);
  });

  it('publishes no PostgreSQL or Redis port unless the services override file is added', () => {
    const services = loadCompose();
    expect(service(services, 'postgres').ports ?? []).toEqual([]);
    expect(service(services, 'redis').ports ?? []).toEqual([]);
    const published = loadCompose('docker-compose.services.yml');
    for (const name of ['postgres', 'redis'])
      for (const port of service(published, name).ports ?? []) expect(port).toMatch(/^127\.0\.0\.1:/);
  });

  it('serves https through Caddy, whose reverse_proxy reaches web at its PORT, at the PUBLIC_BASE_URL', () => {
    const services = loadCompose();
    const caddyName = byImage(services, 'caddy');
    expect(caddyName, 'a caddy service').toBeDefined();
    const caddy = service(services, caddyName!);
    expect(caddy.ports).toEqual(expect.arrayContaining(['80:80', '443:443']));
    const mount = (caddy.volumes ?? []).find((volume) => volume.includes(':/etc/caddy/Caddyfile'));
    expect(mount, 'caddy mounts a Caddyfile').toBeDefined();
    const caddyfile = read(mount!.split(':')[0]!);
    const target = /^\s*reverse_proxy\s+(\S+)/m.exec(caddyfile)?.[1];
    expect(target, 'the Caddyfile has a reverse_proxy').toBeDefined();
    const upstream = new URL(`http://${target}`);
    expect(upstream.hostname).toBe('web');
    const web = parseConfig(containerEnvironment(services, 'web'));
    expect(Number(upstream.port)).toBe(web.port);
    expect(service(services, 'web').expose ?? []).toContain(String(web.port));

    // The site address is CANDOR_DOMAIN, localhost when unset: the same address the app puts in links.
    const site = /^\{\$CANDOR_DOMAIN:([^}]+)\}\s*\{/m.exec(caddyfile);
    expect(site, 'the Caddyfile serves {$CANDOR_DOMAIN:localhost}').not.toBeNull();
    expect(environmentOf(caddy).CANDOR_DOMAIN).toBe(site![1]);
    expect(web.publicBaseUrl).toBe(`https://${site![1]}`);
    const renamed = parse(interpolate(read('docker-compose.yml'), { CANDOR_DOMAIN: 'breach.example.org' }), {
      merge: true,
    }) as { services: Record<string, Service> };
    expect(environmentOf(service(renamed.services, 'web')).PUBLIC_BASE_URL).toBe(
      'https://breach.example.org',
    );
    expect(environmentOf(service(renamed.services, caddyName!)).CANDOR_DOMAIN).toBe('breach.example.org');
  });

  it("trusts the proxy's forwarded address and https, so rate limits see each visitor and secure cookies are set", () => {
    const web = parseConfig(containerEnvironment(loadCompose(), 'web'));
    const app = express();
    app.set('trust proxy', web.trustProxy);
    const trusts = app.get('trust proxy fn') as (address: string, hop: number) => boolean;
    // Docker's default networks: 172.16.0.0/12 and 192.168.0.0/16.
    expect(trusts('172.18.0.4', 0)).toBe(true);
    expect(trusts('192.168.16.2', 0)).toBe(true);
    expect(trusts('203.0.113.9', 0)).toBe(false);
  });
});

describe('Dockerfile', () => {
  it('installs production dependencies only, runs as a non-root user, and production can run without a build', () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    const user = [...dockerfile.matchAll(/^USER\s+(\S+)/gm)].at(-1)?.[1];
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    const pkg = JSON.parse(read('package.json')) as {
      dependencies: Record<string, string>;
      scripts: Record<string, string>;
    };
    // web and worker run TypeScript through tsx: it must survive --omit=dev.
    expect(pkg.scripts.web).toMatch(/tsx/);
    expect(pkg.dependencies.tsx).toBeDefined();
  });
});
