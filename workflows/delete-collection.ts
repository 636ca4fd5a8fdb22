import { proxyActivities } from '@temporalio/workflow';
import type { DeleteCollectionInput, DeletionActivities } from '../activities/deletion';

// Outages of the database, the index or the orchestrator are waited out; nothing here is a bad input.
const retry = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' };
const { beginCollectionDeletion } = proxyActivities<DeletionActivities>({ startToCloseTimeout: '10 minutes', retry });
const { stopIngestionRuns, purgeCollection } = proxyActivities<DeletionActivities>({ startToCloseTimeout: '2 hours', heartbeatTimeout: '30 seconds', retry });

export interface DeleteCollectionResult {
  collection: string;
  /** False: there was no such collection (or its deletion had already finished). */
  deleted: boolean;
  runsStopped: number;
  documents: number;
  blobsRemoved: number;
}

/**
 * A collection's deletion, durable: tombstone it and its documents (queries and uploads stop at
 * once), stop every run that may still write into it (ingestion, re-index) and wait until they
 * have closed, then purge its points from every kept generation, its documents' versions and
 * unshared bytes, its generations and labeled questions. A crash at any step resumes at that step.
 */
export async function deleteCollectionWorkflow(input: DeleteCollectionInput): Promise<DeleteCollectionResult> {
  const deletion = await beginCollectionDeletion(input);
  if (!deletion) return { collection: input.collection, deleted: false, runsStopped: 0, documents: 0, blobsRemoved: 0 };
  const { stopped } = await stopIngestionRuns({ runs: deletion.runs });
  const { documents, blobsRemoved } = await purgeCollection(input);
  return { collection: input.collection, deleted: true, runsStopped: stopped, documents, blobsRemoved };
}
