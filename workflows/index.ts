export { ingestDocumentWorkflow, ingestProgressQuery, type IngestProgress } from './ingest-document';
export { retrieveWorkflow } from './retrieve';
export { deleteDocumentWorkflow, type DeleteDocumentResult } from './delete-document';
export { deleteCollectionWorkflow, type DeleteCollectionResult } from './delete-collection';
export { answerQueryWorkflow } from './answer-query';
export {
  reindexCollectionWorkflow,
  reindexBatchWorkflow,
  reindexProgressQuery,
  pauseReindexSignal,
  pauseReindexUpdate,
  resumeReindexUpdate,
  resumeReindexSignal,
  type ReindexProgress,
} from './reindex-collection';
export { evaluateWorkflow, type EvaluateInput, type EvaluateResult } from './evaluate';
