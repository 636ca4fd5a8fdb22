export { createIngestActivities, type IngestActivities, type IngestDependencies, type EmbedResult } from './ingest';
export { pointId } from './indexing';
export { createQueryActivities, type QueryActivities, type QueryDependencies } from './query';
export { createAnswerActivities, type AnswerActivities, type AnswerDependencies } from './answer';
export { createDeletionActivities, type DeletionActivities, type DeletionDependencies } from './deletion';
export { createReindexActivities, type ReindexActivities, type ReindexDependencies } from './reindex';
export { createEvaluateActivities, type EvaluateActivities, type EvaluateDependencies } from './evaluate';
