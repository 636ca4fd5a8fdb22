import { ProviderError } from './provider-error';

export interface ProviderPost {
  provider: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * One POST to a model provider, every failure classified once: connection errors, timeouts (also
 * a server that never answers) and bodies that are not JSON are retryable; HTTP errors are
 * classified by status and body. Never retries: the calling activity is the only retry loop.
 */
export async function postToProvider<T>({ provider, url, headers, body, timeoutMs, signal }: ProviderPost): Promise<{ json: T; status: number }> {
  const response = await sendToProvider({ provider, url, headers, body, timeoutMs, signal });
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw new ProviderError(`${provider} response broke off: ${(error as Error).message}`, provider, 'retryable', response.status);
  }
  try {
    return { json: JSON.parse(text) as T, status: response.status };
  } catch {
    throw new ProviderError(`${provider} answered ${response.status} with a body that is not JSON`, provider, 'retryable', response.status);
  }
}

/** The request and the status check alone, for callers that read the body as a stream. */
export async function sendToProvider({ provider, url, headers, body, timeoutMs, signal }: ProviderPost): Promise<Response> {
  const timeout = AbortSignal.timeout(timeoutMs);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
  } catch (error) {
    throw new ProviderError(`${provider} request failed: ${(error as Error).message}`, provider, 'retryable');
  }
  if (!response.ok) {
    const text = await response.text().catch(() => '');
    throw ProviderError.fromResponse(provider, response.status, text, response.headers.get('retry-after'));
  }
  return response;
}

export const joinUrl = (base: string, path: string) => `${base.replace(/\/$/, '')}${path}`;
