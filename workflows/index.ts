export { ingestDocumentWorkflow, ingestProgressQuery, type IngestProgress } from './ingest-document';
export { retrieveWorkflow } from './retrieve';
export { answerQueryWorkflow, STREAM_BROKEN } from './answer-query';
