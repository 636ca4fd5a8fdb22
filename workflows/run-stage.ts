import { upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { RAG_STAGE } from '../lib/search-attributes';

/**
 * Moves the run's `RagStage` search attribute, if the run was started with it (deployments that
 * have not registered the attributes start runs without; histories recorded before them too, so
 * replay stays deterministic).
 */
export function publishStage(stage: string): void {
  if (workflowInfo().typedSearchAttributes.get(RAG_STAGE) === undefined) return;
  upsertSearchAttributes([{ key: RAG_STAGE, value: stage }]);
}
