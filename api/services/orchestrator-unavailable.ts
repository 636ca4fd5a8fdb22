import { PlatformError } from '../../lib/errors';

/** Temporal out of reach: a 503 that says what state the request left things in. */
export function orchestratorUnavailable(error: unknown, state: string): PlatformError {
  if (PlatformError.isInstance(error)) return error;
  return Object.assign(new PlatformError('orchestrator_unavailable', `the workflow service could not be reached; ${state}`, 503), { cause: error });
}
