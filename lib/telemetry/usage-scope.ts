import { AsyncLocalStorage } from 'node:async_hooks';

/** An embedding call as the usage ledger needs it. */
export interface EmbeddingCall {
  provider: string;
  model: string;
  inputTokens: number;
  costUsd: number;
  latencyMs: number;
  outcome: 'ok' | 'failed';
}

const scope = new AsyncLocalStorage<EmbeddingCall[]>();

/**
 * Runs `work` and returns the embedding calls made inside it, however deep (the embedders report
 * each call here): an activity learns what it spent without threading a recorder through every
 * scorer and splitter.
 */
export async function collectEmbeddingCalls<T>(work: () => Promise<T>): Promise<{ result: T; calls: EmbeddingCall[] }> {
  const calls: EmbeddingCall[] = [];
  const result = await scope.run(calls, work);
  return { result, calls };
}

/** Called by the metered embedder; outside a collecting scope it records nothing. */
export function reportEmbeddingCall(call: EmbeddingCall): void {
  scope.getStore()?.push(call);
}
