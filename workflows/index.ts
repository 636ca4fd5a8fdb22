export { ingestDocumentWorkflow, ingestProgressQuery, type IngestProgress } from './ingest-document';
