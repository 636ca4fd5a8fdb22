export { createIngestWorkers, type IngestWorkers } from './ingest-worker';
