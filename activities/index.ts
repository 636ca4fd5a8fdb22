export { createIngestActivities, pointId, type IngestActivities, type IngestDependencies, type EmbedResult } from './ingest';
