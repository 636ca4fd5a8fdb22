/**
 * Custom search attributes on ingestion and re-index runs, so operators can find and filter them in
 * the Temporal UI (e.g. `RagCollection = "policies" AND WorkflowType = "reindexCollectionWorkflow"`).
 * They must be registered on the namespace: scripts/start.sh and the test server do it; on a
 * production cluster, `temporal operator search-attribute create` with the names and types below.
 * Pure module: safe in the workflow sandbox.
 */
import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';

export const RAG_TENANT = defineSearchAttributeKey('RagTenant', SearchAttributeType.KEYWORD);
export const RAG_COLLECTION = defineSearchAttributeKey('RagCollection', SearchAttributeType.KEYWORD);
export const RAG_GENERATION = defineSearchAttributeKey('RagGeneration', SearchAttributeType.INT);
export const RAG_STAGE = defineSearchAttributeKey('RagStage', SearchAttributeType.KEYWORD);

export const RAG_SEARCH_ATTRIBUTES = [RAG_TENANT, RAG_COLLECTION, RAG_GENERATION, RAG_STAGE] as const;

export function runSearchAttributes(run: { tenantId: string; collection: string; generation: number; stage: string }): SearchAttributePair[] {
  return [
    { key: RAG_TENANT, value: run.tenantId },
    { key: RAG_COLLECTION, value: run.collection },
    { key: RAG_GENERATION, value: run.generation },
    { key: RAG_STAGE, value: run.stage },
  ];
}
