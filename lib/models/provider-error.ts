const marker = Symbol.for('rag-platform.ProviderError');

/**
 * How a failed model call should be handled, decided once where it happens:
 * - `retryable`: 408/409/429/5xx, timeouts, broken responses; retry with backoff (honour Retry-After);
 * - `rejected`: other 4xx; retrying cannot help;
 * - `context_window` / `content_policy`: this model cannot take this input; route to another candidate;
 * - `unavailable`: its circuit breaker is open; skip it without a call;
 * - `aborted`: the caller gave up (a client went away); says nothing about the provider.
 */
export type ProviderErrorKind = 'retryable' | 'rejected' | 'context_window' | 'content_policy' | 'unavailable' | 'aborted';

export class ProviderError extends Error {
  readonly [marker] = true;

  constructor(
    message: string,
    readonly provider: string,
    readonly kind: ProviderErrorKind,
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ProviderError';
  }

  get retryable(): boolean {
    return this.kind === 'retryable';
  }

  /**
   * What tenants may read: the kind and the HTTP status. The message (the provider's own text,
   * addresses of internal endpoints) is for logs only.
   */
  get summary(): string {
    return `${this.provider}: ${this.kind}${this.status ? ` (HTTP ${this.status})` : ''}`;
  }

  static isInstance(error: unknown): error is ProviderError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }

  static fromResponse(provider: string, status: number, body: string, retryAfterHeader: string | null): ProviderError {
    return new ProviderError(`${provider} answered ${status}: ${body.slice(0, 500)}`, provider, classifyStatus(status, body), status, parseRetryAfter(retryAfterHeader));
  }
}

/** OpenAI-compatible servers and Anthropic name these errors in the body of a 400 (or 413). */
const CONTEXT_WINDOW = /context_length_exceeded|maximum context length|context window|prompt is too long|too many tokens/i;
const CONTENT_POLICY = /content_policy_violation|content_filter|content management policy|safety system/i;

function classifyStatus(status: number, body: string): ProviderErrorKind {
  if (status === 408 || status === 409 || status === 429 || status >= 500) return 'retryable';
  if ((status === 400 || status === 413) && CONTEXT_WINDOW.test(body)) return 'context_window';
  if (status === 400 && CONTENT_POLICY.test(body)) return 'content_policy';
  return 'rejected';
}

/** Retry-After is either delta-seconds or an HTTP date. */
export function parseRetryAfter(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
