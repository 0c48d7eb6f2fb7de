/**
 * The errors the rest of the code throws on purpose. The web error handler maps each to a status
 * and a page; workers read `retryable` to decide between backing off and stopping.
 */

/** Input the caller can fix. HTTP 400; never retried. */
export class ValidationError extends Error {
  override name = 'ValidationError';
  constructor(
    message: string,
    readonly fields: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The thing asked for does not exist (or must not be admitted to exist). HTTP 404; never retried. */
export class NotFoundError extends Error {
  override name = 'NotFoundError';
}

/** The caller may not do this. HTTP 403; never retried. */
export class ForbiddenError extends Error {
  override name = 'ForbiddenError';
}

/** The action does not fit the current state (approving a sent campaign). HTTP 409; never retried. */
export class ConflictError extends Error {
  override name = 'ConflictError';
}

/** A dependency we need is down (Redis for the web side). HTTP 503; the client may retry. */
export class UnavailableError extends Error {
  override name = 'UnavailableError';
}

/**
 * A provider refused or failed a send. `retryable`: 429, 5xx and network errors back off and retry;
 * other 4xx (bad number, bad request) will fail the same way again, so the message fails now and the
 * channel policy moves on. `permanentForRecipient` marks failures about the recipient (invalid
 * number), which trigger the next channel. `outcomeUnknown`: the request went out and no answer came
 * back (a time-out, a dropped connection), so the provider may have the message; it is never retried
 * blindly — the provider is asked first. `retryAfterMs`: how long a 429 asked us to wait, when it said.
 */
export class ProviderError extends Error {
  override name = 'ProviderError';
  constructor(
    message: string,
    readonly details: {
      provider: string;
      retryable: boolean;
      status?: number;
      code?: string | number;
      outcomeUnknown?: boolean;
      retryAfterMs?: number;
    },
  ) {
    super(message);
  }
  get retryable(): boolean {
    return this.details.retryable;
  }
  get outcomeUnknown(): boolean {
    return this.details.outcomeUnknown === true;
  }
}

export function providerErrorFromStatus(
  provider: string,
  status: number | undefined,
  message: string,
  code?: string | number,
  extra: { outcomeUnknown?: boolean; retryAfterMs?: number | null } = {},
) {
  const retryable = status === undefined || status === 429 || status >= 500 || status === 408;
  return new ProviderError(message, {
    provider,
    retryable,
    ...(status === undefined ? {} : { status }),
    ...(code === undefined ? {} : { code }),
    ...(extra.outcomeUnknown ? { outcomeUnknown: true } : {}),
    ...(extra.retryAfterMs === undefined || extra.retryAfterMs === null
      ? {}
      : { retryAfterMs: extra.retryAfterMs }),
  });
}
