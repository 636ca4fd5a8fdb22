const marker = Symbol.for('rag-platform.ProviderError');

/**
 * A model provider's failure, classified once where it happens: 408/409/429/5xx and timeouts are
 * retryable (honouring Retry-After), other 4xx are not. The activity turns this into the Temporal
 * failure the workflow acts on.
 */
export class ProviderError extends Error {
  readonly [marker] = true;

  constructor(
    message: string,
    readonly provider: string,
    readonly retryable: boolean,
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ProviderError';
  }

  static isInstance(error: unknown): error is ProviderError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }

  static fromResponse(provider: string, status: number, body: string, retryAfterHeader: string | null): ProviderError {
    const retryable = status === 408 || status === 409 || status === 429 || status >= 500;
    return new ProviderError(`${provider} answered ${status}: ${body.slice(0, 500)}`, provider, retryable, status, parseRetryAfter(retryAfterHeader));
  }
}

/** Retry-After is either delta-seconds or an HTTP date. */
export function parseRetryAfter(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
