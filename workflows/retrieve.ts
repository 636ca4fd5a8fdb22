import { proxyLocalActivities } from '@temporalio/workflow';
import type { QueryActivities } from '../activities/query';
import { COLLECTION_NOT_FOUND, type RetrieveInput, type RetrieveResult } from '../lib/query/types';

/**
 * `mode: "retrieve"`: ranked chunks without generation. Retrieval is short and on the request's
 * critical path, so it runs as a local activity: no task-queue round trip, still retried.
 */
export async function retrieveWorkflow(input: RetrieveInput): Promise<RetrieveResult> {
  const { retrieveChunks } = proxyLocalActivities<QueryActivities>({
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '200 milliseconds', maximumAttempts: 3, nonRetryableErrorTypes: [COLLECTION_NOT_FOUND] },
  });
  return retrieveChunks(input);
}
