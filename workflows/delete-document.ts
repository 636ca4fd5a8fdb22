import { proxyActivities } from '@temporalio/workflow';
import type { DeleteDocumentInput, DeletionActivities } from '../activities/deletion';

// Outages of the database, the index or the orchestrator are waited out; nothing here is a bad input.
const retry = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' };
const { beginDocumentDeletion, purgeDocument } = proxyActivities<DeletionActivities>({ startToCloseTimeout: '10 minutes', retry });
const { stopIngestionRuns } = proxyActivities<DeletionActivities>({ startToCloseTimeout: '2 hours', heartbeatTimeout: '30 seconds', retry });

export interface DeleteDocumentResult {
  documentId: string;
  /** Versions up to this one were removed; null if there was no such document. */
  throughVersion: number | null;
  runsStopped: number;
  blobsRemoved: number;
}

/**
 * A document's deletion, durable: tombstone (queries stop seeing it), stop its ingestion runs and
 * wait until they have closed, then remove its points from every kept generation, its versions
 * and the bytes nothing else references. A crash at any step resumes at that step.
 */
export async function deleteDocumentWorkflow(input: DeleteDocumentInput): Promise<DeleteDocumentResult> {
  const deletion = await beginDocumentDeletion(input);
  if (!deletion) return { documentId: input.documentId, throughVersion: null, runsStopped: 0, blobsRemoved: 0 };
  const { stopped } = await stopIngestionRuns({ runs: deletion.runs });
  const { blobsRemoved } = await purgeDocument(deletion);
  return { documentId: input.documentId, throughVersion: deletion.throughVersion, runsStopped: stopped, blobsRemoved };
}
