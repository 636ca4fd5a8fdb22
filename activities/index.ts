export { createIngestActivities, pointId, type IngestActivities, type IngestDependencies, type EmbedResult } from './ingest';
export { createQueryActivities, type QueryActivities, type QueryDependencies } from './query';
export { createAnswerActivities, type AnswerActivities, type AnswerDependencies } from './answer';
