/** Types that cross the re-index workflow boundary. Pure: safe in the workflow sandbox. */
import type { IndexTarget } from '../ingest/types';

export type ReindexKind = 'reindex' | 'rollback';

export const REINDEX_STAGES = ['queued', 'building', 'catching_up', 'gating', 'swapping', 'paused', 'done', 'gate_failed', 'failed', 'cancelled'] as const;
export type ReindexStage = (typeof REINDEX_STAGES)[number];
export const FINISHED_STAGES: readonly ReindexStage[] = ['done', 'gate_failed', 'failed', 'cancelled'];

export interface ReindexCounters {
  documentsDone: number;
  chunks: number;
  errors: number;
}

export interface ReindexInput {
  runId: string;
  kind: ReindexKind;
  tenantId: string;
  collection: string;
  fromGeneration: number;
  target: IndexTarget;
  /** Documents per child workflow. */
  batchSize: number;
  /** Child workflows a run starts before continuing as new, which keeps each history bounded. */
  batchesPerRun: number;
  heartbeatTimeoutMs: number;
  gate: GateSettings;
  /** Batches (child workflows) in flight at once: more embedding workers then mean a faster run. Unset: 1. */
  batchesInFlight?: number;
  /** Carried over continue-as-new. */
  cursor?: { after: string; batch: number };
  /** Carried over continue-as-new during catch-up: where it stood (the sweep finds what is still missing). */
  catchUp?: { round: number; pass: number };
  counters?: ReindexCounters;
  paused?: boolean;
  documentsTotal?: number;
}

export interface ReindexBatchInput {
  runId: string;
  tenantId: string;
  collection: string;
  target: IndexTarget;
  documentIds: string[];
  heartbeatTimeoutMs: number;
}

export interface ReindexBatchResult {
  indexed: number;
  alreadyIndexed: number;
  gone: number;
  failed: number;
  chunks: number;
}

export interface GateSettings {
  /** Recall is measured at this many retrieved chunks. */
  k: number;
  /** How much lower than the live generation's the new recall may be. */
  recallMargin: number;
}

export interface RecallComparison {
  k: number;
  questions: number;
  live: number;
  candidate: number;
  margin: number;
  passed: boolean;
}

/** What the gate found; `passed` is false with reasons a reader can act on. */
export interface GateReport {
  passed: boolean;
  reasons: string[];
  documents: { expected: number; present: number; missing: string[]; wrongChunkCount: { documentId: string; expected: number; found: number }[] };
  recall: RecallComparison | null;
}

export interface ReindexResult {
  stage: 'done' | 'gate_failed';
  generation: number;
  report: GateReport;
}

export const REINDEX_TASK_QUEUE = 'ingest';

export function reindexWorkflowId(tenantId: string, collection: string, runId: string): string {
  return `reindex/${tenantId}/${collection}/${runId}`;
}
