export { ingestDocumentWorkflow, ingestProgressQuery, type IngestProgress } from './ingest-document';
export { retrieveWorkflow } from './retrieve';
export { answerQueryWorkflow } from './answer-query';
