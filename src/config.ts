import crypto from 'node:crypto';
import net from 'node:net';
import { z } from 'zod';
import type { Channel } from './channels/kinds.js';

/**
 * Every setting Candor reads, parsed once at start. Factories receive the parsed Config; nothing
 * deeper in the code reads process.env.
 */

const base64Key = (name: string) =>
  z.string().refine((value) => Buffer.from(value, 'base64').length === 32, {
    message: `${name} must be 32 random bytes, base64-encoded (generate one with: openssl rand -base64 32)`,
  });

/** Sends per second a provider account allows; fractions allowed (0.5 = one every two seconds). */
const ratePerSecond = (name: string) =>
  z.coerce.number().min(0.01, `${name} must be at least 0.01 (sends per second)`).max(10_000);

function minutesOfDay(hhmm: string): number {
  const [hours = '0', minutes = '0'] = hhmm.split(':');
  return Number(hours) * 60 + Number(minutes);
}

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

/** Express's names for address ranges, or an IP address with an optional prefix length. */
function isProxyAddress(value: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(value)) return true;
  const [address = '', bits, ...rest] = value.split('/');
  const family = net.isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  const prefix = Number(bits);
  return /^\d{1,3}$/.test(bits) && prefix <= (family === 4 ? 32 : 128);
}

// Local defaults are safe only because they are refused in production (see requiredInProduction).
const DEV_ENCRYPTION_KEY = Buffer.alloc(32, 1).toString('base64');
const DEV_LOOKUP_HMAC_KEY = Buffer.alloc(32, 2).toString('base64');
const DEV_SESSION_SECRET = 'candor-development-session-secret-not-for-production';

/** The secrets production requires, each with the development default it may not keep. */
const DEVELOPMENT_SECRETS: Record<string, string> = {
  ENCRYPTION_KEY: DEV_ENCRYPTION_KEY,
  LOOKUP_HMAC_KEY: DEV_LOOKUP_HMAC_KEY,
  SESSION_SECRET: DEV_SESSION_SECRET,
};

/** The variables Candor refuses to start without in production (deployment files are checked against it). */
export const REQUIRED_IN_PRODUCTION: readonly string[] = Object.keys(DEVELOPMENT_SECRETS);

/** Fresh values for every secret production requires: 32 random bytes each, base64. */
export function newSecrets(): Record<string, string> {
  return Object.fromEntries(
    REQUIRED_IN_PRODUCTION.map((key) => [key, crypto.randomBytes(32).toString('base64')]),
  );
}

const schema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /**
   * The address the web server listens on. Unset: every interface once real secrets are set, and only
   * 127.0.0.1 while the development secrets are in use (anyone who read the source could forge
   * sessions and open every sealed value with them).
   */
  HOST: z.string().min(1).optional(),
  PUBLIC_BASE_URL: z.url().default('http://localhost:3000'),
  /**
   * The proxies whose X-Forwarded-For and X-Forwarded-Proto are believed. A proxy on another host or
   * container must be listed, or every visitor shares the proxy's address (and its rate limits) and a
   * production session cookie, marked secure, is never set over what looks like plain HTTP.
   */
  TRUST_PROXY: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
    )
    .refine(
      (entries) => entries.every(isProxyAddress),
      'TRUST_PROXY must list loopback, linklocal, uniquelocal or IP addresses and subnets (e.g. 10.0.0.0/8), comma separated',
    )
    .default(['loopback']),
  DATABASE_URL: z
    .string()
    .startsWith('postgres', 'DATABASE_URL must be a postgres:// URL')
    .default('postgres://postgres@127.0.0.1:5432/postgres'),
  REDIS_URL: z
    .string()
    .startsWith('redis', 'REDIS_URL must be a redis:// URL')
    .default('redis://127.0.0.1:6379'),
  /**
   * A Redis Cluster instead of one server: some of its nodes, `host:port` comma separated (the rest
   * are found from them). REDIS_URL then only lends its user, password and rediss:// (TLS).
   */
  REDIS_CLUSTER_NODES: z
    .string()
    .regex(
      /^\s*[^\s:,]+:\d{1,5}\s*(,\s*[^\s:,]+:\d{1,5}\s*)*$/,
      'REDIS_CLUSTER_NODES must list host:port, comma separated (e.g. 10.0.0.1:6379,10.0.0.2:6379)',
    )
    .optional()
    .transform((value) =>
      (value ?? '')
        .split(',')
        .map((node) => node.trim())
        .filter(Boolean)
        .map((node) => {
          const at = node.lastIndexOf(':');
          return { host: node.slice(0, at), port: Number(node.slice(at + 1)) };
        }),
    )
    .refine(
      (nodes) => nodes.every((node) => node.port >= 1 && node.port <= 65_535),
      'REDIS_CLUSTER_NODES: every port must be between 1 and 65535',
    ),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_{}-]+$/, 'QUEUE_PREFIX may hold letters, digits, _ - { }')
    .default('candor'),
  ENCRYPTION_KEY: base64Key('ENCRYPTION_KEY').default(DEV_ENCRYPTION_KEY),
  /** Old encryption keys, comma separated, kept only to read values written before a rotation. */
  ENCRYPTION_KEYS_PREVIOUS: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((key) => key.trim())
        .filter(Boolean),
    ),
  LOOKUP_HMAC_KEY: base64Key('LOOKUP_HMAC_KEY').default(DEV_LOOKUP_HMAC_KEY),
  SESSION_SECRET: z
    .string()
    .min(32, 'SESSION_SECRET must be at least 32 characters')
    .default(DEV_SESSION_SECRET),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  EMAIL_PROVIDER: z.enum(['sandbox', 'sendgrid', 'smtp']).default('sandbox'),
  SMS_PROVIDER: z.enum(['sandbox', 'twilio']).default('sandbox'),
  VOICE_PROVIDER: z.enum(['sandbox', 'twilio']).default('sandbox'),
  /** A simulated late recipient's receipt comes this long after the sandbox accepts the message. */
  SANDBOX_LATE_RECEIPT_SECONDS: z.coerce.number().min(0).max(3600).default(20),
  EMAIL_FROM: z.string().default('Candor <notices@example.com>'),
  SENDGRID_API_KEY: z.string().optional(),
  SENDGRID_API_BASE_URL: z.url().default('https://api.sendgrid.com'),
  SENDGRID_WEBHOOK_PUBLIC_KEY: z.string().optional(),
  /** Emails per SendGrid request (1,000 at most); 1 sends each on its own. See README, Campaigns. */
  SENDGRID_BATCH_SIZE: z.coerce.number().int().min(1).max(1_000).default(1_000),
  /** SendGrid's Email Activity may take this long to list a message: "not found" before then is asked again. */
  SENDGRID_ACTIVITY_LAG_SECONDS: z.coerce.number().int().min(0).max(86_400).default(1_800),
  /** A signed SendGrid event batch older than this is refused (each SendGrid retry is signed afresh). */
  SENDGRID_WEBHOOK_MAX_AGE_SECONDS: z.coerce.number().int().min(10).max(86_400).default(600),
  TWILIO_ACCOUNT_SID: z.string().optional(),
  TWILIO_AUTH_TOKEN: z.string().optional(),
  TWILIO_API_BASE_URL: z.url().default('https://api.twilio.com'),
  TWILIO_FROM: z.string().optional(),
  /** The secret path segment of the inbound-email webhook (SendGrid Inbound Parse); unset: no route. */
  INBOUND_EMAIL_SECRET: z
    .string()
    .regex(/^[A-Za-z0-9_-]{24,128}$/, 'INBOUND_EMAIL_SECRET must be 24-128 letters, digits, - or _')
    .optional(),
  /** HTTP basic auth the inbound-email webhook requires (put them in the Inbound Parse URL). */
  INBOUND_EMAIL_USER: z
    .string()
    .regex(/^[^:\s]{1,64}$/, 'INBOUND_EMAIL_USER must not contain ":" or spaces')
    .optional(),
  INBOUND_EMAIL_PASSWORD: z
    .string()
    .min(16, 'INBOUND_EMAIL_PASSWORD must be at least 16 characters')
    .optional(),
  /** The domain whose MX points at SendGrid Inbound Parse: outbound email gets Reply-To reply+…@ it. */
  INBOUND_EMAIL_DOMAIN: z
    .string()
    .regex(
      /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i,
      'INBOUND_EMAIL_DOMAIN must be a domain name such as reply.example.com',
    )
    .optional(),
  /** An inbound email larger than this (all of it, attachments included) is refused with 413. */
  INBOUND_EMAIL_MAX_BYTES: z.coerce.number().int().min(10_000).max(50_000_000).default(10_000_000),
  SMTP_URL: z
    .string()
    .regex(
      /^smtps?:\/\//,
      'SMTP_URL must be an smtp:// or smtps:// URL, e.g. smtp://user:pass@mail.example.com:587',
    )
    .optional(),
  LETTER_ENVELOPE: z.enum(['DL', 'C5']).default('DL'),
  /** Where the post returns a letter it cannot deliver: lines separated by commas or \n. */
  LETTER_RETURN_ADDRESS: z
    .string()
    .max(200, 'LETTER_RETURN_ADDRESS must fit on one line: 200 characters at most')
    .optional(),
  SEND_CONCURRENCY: z.coerce.number().int().min(1).max(500).default(20),
  /**
   * Threads that validate, hash and encrypt imported rows; 0 does it on the main thread. Off by
   * default: each thread costs ~40-60 MB (its own V8 heap and TypeScript loader), which breaks the
   * 256 MB import budget on a small machine; with spare cores and memory, one per core speeds it up.
   */
  IMPORT_THREADS: z.coerce.number().int().min(0).max(64).default(0),
  STAFF_SIGN_IN_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
  STAFF_SIGN_IN_CLIENT_ATTEMPTS_PER_HOUR: z.coerce.number().int().min(1).max(10_000).default(50),
  STAFF_LOCKOUT_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(15),
  API_REQUESTS_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(600),
  /** Extra regulator deadlines by country, e.g. `US=720,AU=720` (hours from discovery). */
  REGULATOR_DEADLINE_HOURS: z
    .string()
    .regex(
      /^(\s*[A-Z]{2}\s*=\s*\d{1,5}\s*)?(,\s*[A-Z]{2}\s*=\s*\d{1,5}\s*)*$/,
      'REGULATOR_DEADLINE_HOURS must look like US=720,AU=720 (country code = hours)',
    )
    .default(''),
  /** Bearer token for GET /metrics on the public port; without one, the public port serves no metrics. */
  METRICS_TOKEN: z.string().min(16, 'METRICS_TOKEN must be at least 16 characters').optional(),
  /** The web process also serves /metrics on 127.0.0.1 at this port, for a scraper on the same machine (0: none). */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  /** A worker-only process serves /metrics, /healthz and /readyz on this port (0: none). */
  WORKER_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  /** Days after an incident is resolved that its people's personal data is kept, then purged. */
  RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(365),
  EMAIL_RATE_PER_SECOND: ratePerSecond('EMAIL_RATE_PER_SECOND').default(100),
  SMS_RATE_PER_SECOND: ratePerSecond('SMS_RATE_PER_SECOND').default(10),
  VOICE_RATE_PER_SECOND: ratePerSecond('VOICE_RATE_PER_SECOND').default(1),
  LETTER_RATE_PER_SECOND: ratePerSecond('LETTER_RATE_PER_SECOND').default(50),
  CALLING_HOURS: z
    .string()
    .regex(
      /^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$/,
      'CALLING_HOURS must look like 08:00-21:00 (local time of each person)',
    )
    .refine((value) => {
      const [start = '', end = ''] = value.split('-');
      return minutesOfDay(start) < minutesOfDay(end);
    }, 'CALLING_HOURS must start before it ends, within one day')
    .default('08:00-21:00'),
  DEFAULT_TIME_ZONE: z
    .string()
    .refine(isTimeZone, 'DEFAULT_TIME_ZONE must be an IANA time zone such as Europe/London')
    .default('UTC'),
  VOICE_NO_ANSWER_TRIES: z.coerce.number().int().min(1).max(10).default(2),
  RECONCILE_EVERY_SECONDS: z.coerce.number().min(0.2).max(3600).default(60),
  SEND_TIMEOUT_SECONDS: z.coerce.number().min(1).max(3600).default(120),
  WORKER_LOCK_SECONDS: z.coerce.number().min(1).max(600).default(30),
  /** Each call to SendGrid, Twilio or an SMTP server gives up after this long; its outcome is then unknown. */
  PROVIDER_TIMEOUT_SECONDS: z.coerce.number().min(0.1).max(600).default(15),
  /** A message still `sent` this long after it went out is looked up at its provider (the receipt may be lost). */
  RECEIPT_LOOKUP_AFTER_SECONDS: z.coerce
    .number()
    .min(1)
    .max(7 * 24 * 3600)
    .default(900),
  /** After an unknown outcome, the provider is asked only once this has passed (its index lags). */
  UNKNOWN_LOOKUP_AFTER_SECONDS: z.coerce
    .number()
    .min(0)
    .max(24 * 3600)
    .default(120),
  /** After an unknown outcome at a provider that cannot be asked (SMTP), it is sent again after this long. */
  UNKNOWN_RESEND_AFTER_SECONDS: z.coerce
    .number()
    .min(0)
    .max(7 * 24 * 3600)
    .default(3600),
  /** How long browsers and CDNs may use a status page without asking again. */
  STATUS_PAGE_MAX_AGE_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
  STATUS_PAGE_STALE_WHILE_REVALIDATE_SECONDS: z.coerce.number().int().min(0).max(86_400).default(60),
  /** How long a CDN may keep serving its copy while Candor answers errors or cannot be reached. */
  STATUS_PAGE_STALE_IF_ERROR_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(365 * 86_400)
    .default(7 * 86_400),
  /** How often a web process asks whether another process published a newer status page. */
  STATUS_PAGE_REFRESH_MS: z.coerce.number().int().min(10).max(600_000).default(1_000),
});

/**
 * Rules across variables, checked on the raw values so they are reported alongside any malformed
 * variable rather than only after every variable parses.
 */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

function usesDevelopmentSecrets(env: Record<string, string | undefined>): boolean {
  return Object.entries(DEVELOPMENT_SECRETS).some(
    ([key, devDefault]) => !env[key] || env[key] === devDefault,
  );
}

function crossFieldProblems(env: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  const need = (key: string, why: string) => {
    if (!env[key]) problems.push(`${key}: ${key} is required ${why}`);
  };
  if (env.EMAIL_PROVIDER === 'smtp') need('SMTP_URL', 'when EMAIL_PROVIDER=smtp');
  if (env.EMAIL_PROVIDER === 'sendgrid') {
    need('SENDGRID_API_KEY', 'when EMAIL_PROVIDER=sendgrid');
    need('SENDGRID_WEBHOOK_PUBLIC_KEY', 'when EMAIL_PROVIDER=sendgrid (delivery receipts are verified)');
  }
  for (const key of ['SMS_PROVIDER', 'VOICE_PROVIDER']) {
    if (env[key] === 'twilio') {
      need('TWILIO_ACCOUNT_SID', `when ${key}=twilio`);
      need('TWILIO_AUTH_TOKEN', `when ${key}=twilio`);
      need('TWILIO_FROM', `when ${key}=twilio`);
    }
  }
  if (
    env.INBOUND_EMAIL_SECRET ||
    env.INBOUND_EMAIL_USER ||
    env.INBOUND_EMAIL_PASSWORD ||
    env.INBOUND_EMAIL_DOMAIN
  )
    for (const key of ['INBOUND_EMAIL_SECRET', 'INBOUND_EMAIL_USER', 'INBOUND_EMAIL_PASSWORD'])
      need(key, 'to receive email replies (all of INBOUND_EMAIL_SECRET, _USER and _PASSWORD, or none)');
  const providerTimeout = Number(env.PROVIDER_TIMEOUT_SECONDS ?? 15);
  const sendTimeout = Number(env.SEND_TIMEOUT_SECONDS ?? 120);
  if (providerTimeout >= sendTimeout)
    problems.push(
      'PROVIDER_TIMEOUT_SECONDS: PROVIDER_TIMEOUT_SECONDS must be shorter than SEND_TIMEOUT_SECONDS (a send must give up before it counts as abandoned)',
    );
  if (env.REDIS_CLUSTER_NODES && /[{}]/.test(env.QUEUE_PREFIX ?? ''))
    problems.push(
      'QUEUE_PREFIX: on a Redis Cluster (REDIS_CLUSTER_NODES) Candor places its keys with hash tags itself; set QUEUE_PREFIX without { }',
    );
  if (usesDevelopmentSecrets(env) && env.HOST && !LOOPBACK_HOSTS.has(env.HOST))
    problems.push(
      `HOST: the development ENCRYPTION_KEY, LOOKUP_HMAC_KEY or SESSION_SECRET may only be used on a loopback address; set all three to listen on ${env.HOST}`,
    );
  if (env.NODE_ENV === 'production') {
    for (const [key, devDefault] of Object.entries(DEVELOPMENT_SECRETS)) {
      if (!env[key] || env[key] === devDefault) problems.push(`${key}: ${key} must be set in production`);
    }
  }
  return [...new Set(problems)];
}

export type Env = z.infer<typeof schema>;

export interface Config {
  env: Env['NODE_ENV'];
  port: number;
  /** Where the web server listens: undefined is every interface. */
  listenHost: string | undefined;
  publicBaseUrl: string;
  /** Proxies trusted for the client's address and protocol (express's `trust proxy`). */
  trustProxy: string[];
  databaseUrl: string;
  redisUrl: string;
  /** The seed nodes of a Redis Cluster, or none: one Redis server at redisUrl. */
  redisClusterNodes: { host: string; port: number }[];
  /**
   * The prefix of Candor's own Redis keys (sessions, pacer, rate limits, status page copies). On a
   * Redis Cluster it is one hash tag, `{candor}`, so keys that are read or written together always
   * share a slot: a cross-slot error cannot happen. Queues are placed by `queues` instead.
   */
  queuePrefix: string;
  /** Where BullMQ keeps the queues: see queueNames in src/queues.ts, the one place that names them. */
  queues: { prefix: string; tagEachQueue: boolean };
  encryptionKeys: { current: Buffer; previous: Buffer[] };
  lookupHmacKey: Buffer;
  sessionSecret: string;
  logLevel: Env['LOG_LEVEL'];
  sendConcurrency: number;
  importThreads: number;
  staffSignIn: { attemptsPerAccount: number; attemptsPerClient: number; lockoutMinutes: number };
  apiRequestsPerMinute: number;
  /** Personal data is purged this many days after its incident is resolved. */
  retentionDays: number;
  /** The published status pages: HTTP cache lifetimes, and how quickly other processes' publishes show. */
  statusPage: {
    maxAgeSeconds: number;
    staleWhileRevalidateSeconds: number;
    staleIfErrorSeconds: number;
    refreshMs: number;
  };
  metricsToken: string | null;
  metricsPort: number;
  workerHttpPort: number;
  /** Hours from discovery to notify each country's regulator, beyond the built-in GDPR and UK ones. */
  regulatorDeadlineHours: Record<string, number>;
  sending: SendingConfig;
  email: {
    provider: Env['EMAIL_PROVIDER'];
    from: string;
    sendgrid: {
      apiKey: string;
      baseUrl: string;
      webhookPublicKey: string;
      webhookMaxAgeSeconds: number;
      activityLagMs: number;
      /** Emails per request: above 1, a campaign's emails go in batches (src/campaigns/send-batch.ts). */
      batchSize: number;
    } | null;
    smtp: { url: string } | null;
  };
  /**
   * Which windowed envelope letters are folded into (the address block sits in its window), and the
   * sender's address printed above the recipient's, for the post to return what it cannot deliver.
   */
  letters: { envelope: Env['LETTER_ENVELOPE']; returnAddress: string | null };
  sms: { provider: Env['SMS_PROVIDER'] };
  voice: { provider: Env['VOICE_PROVIDER'] };
  /** The sandbox provider's simulated recipients (see channels/simulated-recipients.ts). */
  sandbox: { lateReceiptMs: number };
  twilio: { accountSid: string; authToken: string; baseUrl: string; from: string } | null;
  /** Email replies (SendGrid Inbound Parse); null: the webhook is not mounted. */
  inboundEmail: {
    secret: string;
    user: string;
    password: string;
    /** Reply-To domain for outbound email; null: replies are matched by the sender's address only. */
    domain: string | null;
    maxBytes: number;
  } | null;
}

/** How campaigns pace and order their sends. */
export interface SendingConfig {
  /** Each provider account's limit, held across every worker process. */
  ratePerSecond: Record<Channel, number>;
  /** SMS and calls only inside this local window, in minutes after local midnight: [start, end). */
  callingHours: { startMinute: number; endMinute: number };
  /** The organisation's zone: the zone of people imported without one, and of every time shown in the console and on the public pages. */
  defaultTimeZone: string;
  /** Calls that ring out (no answer, busy) are tried this many times before the next channel. */
  noAnswerTries: number;
  reconcileEveryMs: number;
  /** A message left `sending` this long belongs to a worker that died; it may be sent again. */
  staleSendingMs: number;
  /** How long a worker's hold on a job lasts without renewal: a killed worker's jobs return after it. */
  workerLockMs: number;
  /** Every provider call (SDK request, SMTP socket) gives up after this long. */
  providerTimeoutMs: number;
  /** A `sent` message is looked up at its provider once it is this old, and again each time as long. */
  receiptLookupAfterMs: number;
  /** An unknown outcome is looked up once this has passed, so the provider's own index has caught up. */
  unknownLookupAfterMs: number;
  /** An unknown outcome that no lookup can settle is sent again after this long. */
  unknownResendAfterMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `Candor cannot start; fix these settings (see .env.example):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

/** Parses the environment, listing every missing or malformed variable at once. */
export function parseConfig(source: Record<string, string | undefined>): Config {
  // An empty variable means "not set", as in most .env tooling.
  const present = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== ''));
  const result = schema.safeParse(present);
  const problems = [
    ...(result.success
      ? []
      : result.error.issues.map((issue) => `${issue.path.join('.') || 'environment'}: ${issue.message}`)),
    ...crossFieldProblems(present),
  ];
  if (!result.success || problems.length > 0) throw new ConfigError(problems);
  const env = result.data;
  const key = (value: string) => Buffer.from(value, 'base64');
  return {
    env: env.NODE_ENV,
    port: env.PORT,
    listenHost: env.HOST ?? (usesDevelopmentSecrets(present) ? '127.0.0.1' : undefined),
    publicBaseUrl: env.PUBLIC_BASE_URL.replace(/\/+$/, ''),
    trustProxy: env.TRUST_PROXY,
    databaseUrl: env.DATABASE_URL,
    redisUrl: env.REDIS_URL,
    redisClusterNodes: env.REDIS_CLUSTER_NODES,
    // One server: the key names of every earlier release, so an upgrade finds the jobs already queued.
    queuePrefix: env.REDIS_CLUSTER_NODES.length > 0 ? `{${env.QUEUE_PREFIX}}` : env.QUEUE_PREFIX,
    queues: { prefix: env.QUEUE_PREFIX, tagEachQueue: env.REDIS_CLUSTER_NODES.length > 0 },
    encryptionKeys: { current: key(env.ENCRYPTION_KEY), previous: env.ENCRYPTION_KEYS_PREVIOUS.map(key) },
    lookupHmacKey: key(env.LOOKUP_HMAC_KEY),
    sessionSecret: env.SESSION_SECRET,
    logLevel: env.LOG_LEVEL,
    sendConcurrency: env.SEND_CONCURRENCY,
    importThreads: env.IMPORT_THREADS,
    staffSignIn: {
      attemptsPerAccount: env.STAFF_SIGN_IN_ATTEMPTS,
      attemptsPerClient: env.STAFF_SIGN_IN_CLIENT_ATTEMPTS_PER_HOUR,
      lockoutMinutes: env.STAFF_LOCKOUT_MINUTES,
    },
    apiRequestsPerMinute: env.API_REQUESTS_PER_MINUTE,
    retentionDays: env.RETENTION_DAYS,
    statusPage: {
      maxAgeSeconds: env.STATUS_PAGE_MAX_AGE_SECONDS,
      staleWhileRevalidateSeconds: env.STATUS_PAGE_STALE_WHILE_REVALIDATE_SECONDS,
      staleIfErrorSeconds: env.STATUS_PAGE_STALE_IF_ERROR_SECONDS,
      refreshMs: env.STATUS_PAGE_REFRESH_MS,
    },
    metricsToken: env.METRICS_TOKEN ?? null,
    metricsPort: env.METRICS_PORT,
    workerHttpPort: env.WORKER_HTTP_PORT,
    regulatorDeadlineHours: Object.fromEntries(
      env.REGULATOR_DEADLINE_HOURS.split(',')
        .map((pair) => pair.split('=').map((part) => part.trim()))
        .filter((pair): pair is [string, string] => pair.length === 2 && pair[0] !== '')
        .map(([country, hours]) => [country, Number(hours)]),
    ),
    sending: {
      ratePerSecond: {
        email: env.EMAIL_RATE_PER_SECOND,
        sms: env.SMS_RATE_PER_SECOND,
        voice: env.VOICE_RATE_PER_SECOND,
        letter: env.LETTER_RATE_PER_SECOND,
      },
      callingHours: {
        startMinute: minutesOfDay(env.CALLING_HOURS.split('-')[0] ?? ''),
        endMinute: minutesOfDay(env.CALLING_HOURS.split('-')[1] ?? ''),
      },
      defaultTimeZone: env.DEFAULT_TIME_ZONE,
      noAnswerTries: env.VOICE_NO_ANSWER_TRIES,
      reconcileEveryMs: Math.round(env.RECONCILE_EVERY_SECONDS * 1000),
      staleSendingMs: Math.round(env.SEND_TIMEOUT_SECONDS * 1000),
      workerLockMs: Math.round(env.WORKER_LOCK_SECONDS * 1000),
      providerTimeoutMs: Math.round(env.PROVIDER_TIMEOUT_SECONDS * 1000),
      receiptLookupAfterMs: Math.round(env.RECEIPT_LOOKUP_AFTER_SECONDS * 1000),
      unknownLookupAfterMs: Math.round(env.UNKNOWN_LOOKUP_AFTER_SECONDS * 1000),
      unknownResendAfterMs: Math.round(env.UNKNOWN_RESEND_AFTER_SECONDS * 1000),
    },
    email: {
      provider: env.EMAIL_PROVIDER,
      from: env.EMAIL_FROM,
      sendgrid:
        env.SENDGRID_API_KEY && env.SENDGRID_WEBHOOK_PUBLIC_KEY
          ? {
              apiKey: env.SENDGRID_API_KEY,
              baseUrl: env.SENDGRID_API_BASE_URL,
              webhookPublicKey: env.SENDGRID_WEBHOOK_PUBLIC_KEY,
              webhookMaxAgeSeconds: env.SENDGRID_WEBHOOK_MAX_AGE_SECONDS,
              activityLagMs: env.SENDGRID_ACTIVITY_LAG_SECONDS * 1000,
              batchSize: env.SENDGRID_BATCH_SIZE,
            }
          : null,
      smtp: env.SMTP_URL ? { url: env.SMTP_URL } : null,
    },
    letters: {
      envelope: env.LETTER_ENVELOPE,
      returnAddress: env.LETTER_RETURN_ADDRESS?.replaceAll('\\n', '\n').trim() || null,
    },
    sms: { provider: env.SMS_PROVIDER },
    voice: { provider: env.VOICE_PROVIDER },
    sandbox: { lateReceiptMs: Math.round(env.SANDBOX_LATE_RECEIPT_SECONDS * 1000) },
    twilio:
      env.TWILIO_ACCOUNT_SID && env.TWILIO_AUTH_TOKEN && env.TWILIO_FROM
        ? {
            accountSid: env.TWILIO_ACCOUNT_SID,
            authToken: env.TWILIO_AUTH_TOKEN,
            baseUrl: env.TWILIO_API_BASE_URL,
            from: env.TWILIO_FROM,
          }
        : null,
    inboundEmail:
      env.INBOUND_EMAIL_SECRET && env.INBOUND_EMAIL_USER && env.INBOUND_EMAIL_PASSWORD
        ? {
            secret: env.INBOUND_EMAIL_SECRET,
            user: env.INBOUND_EMAIL_USER,
            password: env.INBOUND_EMAIL_PASSWORD,
            domain: env.INBOUND_EMAIL_DOMAIN?.toLowerCase() ?? null,
            maxBytes: env.INBOUND_EMAIL_MAX_BYTES,
          }
        : null,
  };
}
