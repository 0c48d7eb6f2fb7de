import { pino } from 'pino';

export type Logger = pino.Logger;

/**
 * Structured logs that never hold personal data. Code logs ids, not contacts; the redaction list is
 * the safety net for a field that slips through (an error object carrying a request body, say).
 */
export const REDACTED_FIELDS = [
  'email',
  'phone',
  'name',
  'to',
  'from',
  'address',
  'postalAddress',
  'referenceCode',
  'password',
  'body',
  'text',
  'content',
  'req.headers.authorization',
  'req.headers.cookie',
  '*.email',
  '*.phone',
  '*.name',
  '*.to',
  '*.address',
  '*.referenceCode',
  '*.password',
  '*.body',
];

export function createLogger(options: { level: string; pretty?: boolean }): Logger {
  return pino({
    level: options.level,
    redact: { paths: REDACTED_FIELDS, censor: '[redacted]' },
    base: { service: 'candor' },
  });
}
