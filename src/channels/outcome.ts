/**
 * What a failed provider call tells us about the message. Pure: it reads only the error.
 *
 * - `answered`: the provider replied with an HTTP status (or an SMTP reply code); its answer is the
 *   outcome, and the usual retry rules apply (4xx stop, 429 and 5xx back off).
 * - `not_sent`: the request surely never reached the provider (refused, no such host, unreachable),
 *   so trying again cannot duplicate anything.
 * - `unknown`: the request went out (or may have) and no answer came back — a time-out, a connection
 *   dropped mid-response. The provider may have accepted it: ask before sending again.
 *
 * An error we do not recognise counts as `not_sent`, which keeps the ordinary retry; the codes below
 * are what axios (under both the twilio and @sendgrid SDKs) and nodemailer raise.
 */
export type CallFailure = 'answered' | 'not_sent' | 'unknown';

/** axios: its own time-out (ECONNABORTED, or ETIMEDOUT with clarifyTimeoutError); Node: a reset or broken pipe. */
const NO_ANSWER_CODES = new Set(['ECONNABORTED', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE', 'ESOCKETTIMEDOUT']);

/** The connection was never made: nothing was written, so nothing can have arrived. */
const NEVER_CONNECTED_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** nodemailer's time-outs before any mail is handed over: connecting, the greeting, TLS. */
const SMTP_SETUP_TIMEOUTS = new Set([
  'CONNECT_TIMEOUT',
  'GREETING_TIMEOUT',
  'UPGRADE_TIMEOUT',
  'DNS_TIMEOUT',
]);

function field(error: unknown, name: string): unknown {
  return typeof error === 'object' && error !== null ? (error as Record<string, unknown>)[name] : undefined;
}

export function classifyCallFailure(error: unknown): CallFailure {
  const response = field(error, 'response');
  const answeredHttp =
    typeof field(error, 'status') === 'number' ||
    (typeof response === 'object' && response !== null && typeof field(response, 'status') === 'number') ||
    typeof field(error, 'code') === 'number'; // @sendgrid/client's ResponseError carries the status as `code`
  if (answeredHttp || typeof field(error, 'responseCode') === 'number') return 'answered';

  const code = field(error, 'code');
  // nodemailer wraps socket errors as ESOCKET and keeps the system's code as originalCode.
  const systemCode = field(error, 'originalCode') ?? code;
  if (field(error, 'syscall') === 'connect' || NEVER_CONNECTED_CODES.has(String(systemCode)))
    return 'not_sent';
  if (code === 'ESOCKET') return 'unknown'; // nodemailer: the socket failed mid-session
  if (code === 'ETIMEDOUT' && SMTP_SETUP_TIMEOUTS.has(String(field(error, 'timeoutType')))) return 'not_sent';
  if (typeof code === 'string' && NO_ANSWER_CODES.has(code)) return 'unknown';
  const message = error instanceof Error ? error.message : '';
  // Older axios and some agents name the failure only in the message.
  if (/socket hang up|timeout of \d+ms exceeded/i.test(message)) return 'unknown';
  return 'not_sent';
}
