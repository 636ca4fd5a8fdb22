import type { Client } from '@temporalio/client';
import { PlatformError } from '../../lib/errors';

/** Temporal out of reach: a 503 that says what state the request left things in. */
export function orchestratorUnavailable(error: unknown, state: string): PlatformError {
  if (PlatformError.isInstance(error)) return error;
  return Object.assign(new PlatformError('orchestrator_unavailable', `the workflow service could not be reached; ${state}`, 503), { cause: error });
}

/**
 * Runs calls to Temporal under a deadline: with the cluster out of reach the client would retry
 * for about 20 s; a caller gets its 503 in seconds instead. The client's retry backoff (sleeps of
 * up to 5 s) does not look at the deadline, so the call is also aborted when the time is up.
 * Long polls (a run's result) are not meant for it.
 */
export async function promptly<T>(temporal: Client, call: () => Promise<T>, timeoutMs = ORCHESTRATOR_CALL_TIMEOUT_MS): Promise<T> {
  const { connection } = temporal;
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abort.abort();
      reject(new Error(`Temporal did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([connection.withAbortSignal(abort.signal, () => connection.withDeadline(Date.now() + timeoutMs, call)), expired]);
  } finally {
    clearTimeout(timer);
  }
}

export const ORCHESTRATOR_CALL_TIMEOUT_MS = 5_000;
