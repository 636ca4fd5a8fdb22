import { Context } from '@temporalio/activity';
import type { WorkflowClient } from '@temporalio/client';
import type { AnswerInput, AnswerResult } from '../lib/answer/types';
import type { QuestionOutcome, SafetyOutcome } from '../lib/eval/gate';
import { runSafetyProbes } from '../lib/eval/safety-probes';
import { DEFAULT_TENANT_SETTINGS } from '../lib/gateway/tenant-settings';
import type { PromptRef } from '../lib/prompts/prompt-ref';
import { QUERY_TASK_QUEUE } from '../lib/query/types';
import type { CollectionStore } from '../lib/stores/collection-store';
import type { DeploymentStore, NewDeployment } from '../lib/stores/deployment-store';
import type { EvalSetStore, LabeledQuestion } from '../lib/stores/eval-set-store';
import type { PromptStore } from '../lib/stores/prompt-store';
import type { TenantStore } from '../lib/stores/tenant-store';
import type { RetrievedChunk } from '../lib/query/types';

/** What is evaluated: a prompt version, and the model routed first. */
export interface EvaluatedConfiguration {
  prompt: PromptRef;
  preferredModel?: string;
}

export interface EvaluateQuestionInput {
  tenantId: string;
  collection: string;
  labeled: LabeledQuestion;
  configuration: EvaluatedConfiguration;
  topK: number;
  rerankCandidates: number;
}

/** What a promotion's evidence says before the gate decides. */
export type PromotionEvidence = Omit<NewDeployment, 'decision' | 'report' | 'workflowId'>;

export interface RecordDecisionInput {
  deployment: PromotionEvidence;
  passed: boolean;
  report: unknown;
  /** Moves the label when the gate passed. */
  label: { name: string; label: string; version: number };
}

export interface EvaluateDependencies {
  evalSets: EvalSetStore;
  collections: Pick<CollectionStore, 'admission'>;
  tenants: Pick<TenantStore, 'get'>;
  prompts: PromptStore;
  deployments: DeploymentStore;
  /** Starts answer and retrieval runs in the query namespace: the eval asks as a user would. */
  queries: WorkflowClient;
}

/** The largest eval set one evaluation reads: enough to gate on, bounded so its history stays small. */
export const MAX_EVAL_QUESTIONS = 200;

export function createEvaluateActivities({ evalSets, collections, tenants, prompts, deployments, queries }: EvaluateDependencies) {
  return {
    async loadEvalSet(input: { tenantId: string; collection: string }): Promise<LabeledQuestion[]> {
      return (await evalSets.get(input.tenantId, input.collection)).slice(0, MAX_EVAL_QUESTIONS);
    },

    /** One labeled question through the real query path (retrieval, then the answer run) under one configuration. */
    async evaluateQuestion(input: EvaluateQuestionInput): Promise<QuestionOutcome> {
      const { tenantId, collection, labeled, configuration } = input;
      const admission = await collections.admission(tenantId, collection);
      const base = { tenantId, collection, question: labeled.question, filters: {}, topK: input.topK };
      const { info } = Context.current();
      // Per activity (and attempt): a retried question starts fresh runs rather than meeting the old ids.
      const id = `${info.workflowExecution?.workflowId ?? 'evaluate'}/${info.activityId}/${info.attempt}`;
      const options = { taskQueue: QUERY_TASK_QUEUE, workflowExecutionTimeout: '5 minutes' } as const;
      const retrieved = await queries.execute('retrieveWorkflow', { ...options, workflowId: `${id}/retrieve`, args: [base] }) as { chunks: RetrievedChunk[] };
      const answerInput: AnswerInput = {
        ...base,
        rerankCandidates: input.rerankCandidates,
        prompt: configuration.prompt,
        ...(configuration.preferredModel && { preferredModel: configuration.preferredModel }),
        ...(admission?.relevanceFloor != null && { relevanceFloor: admission.relevanceFloor }),
      };
      const started = Date.now();
      const answer = await queries.execute('answerQueryWorkflow', { ...options, workflowId: `${id}/answer`, args: [answerInput] }) as AnswerResult;
      return {
        question: labeled.question,
        relevantDocumentIds: labeled.relevantDocumentIds,
        retrievedDocumentIds: retrieved.chunks.map((chunk) => chunk.documentId),
        found: answer.found,
        citedDocumentIds: [...new Set(answer.citations.map((c) => c.documentId))],
        latencyMs: Date.now() - started,
        costUsd: answer.calls.reduce((sum, call) => sum + call.costUsd, 0),
        answeredBy: answer.answeredBy.provider,
      };
    },

    /** The safety set through the guardrails with the tenant's own settings. */
    async runSafetySet(input: { tenantId: string }): Promise<SafetyOutcome[]> {
      const tenant = await tenants.get(input.tenantId);
      return runSafetyProbes((tenant?.settings ?? DEFAULT_TENANT_SETTINGS).guardrails);
    },

    /** Stores the evidence of the decision and, when the gate passed, moves the label in the same step. */
    async recordDecision(input: RecordDecisionInput): Promise<{ deploymentId: number }> {
      const workflowId = Context.current().info.workflowExecution?.workflowId ?? null;
      if (input.passed) {
        const reason = input.deployment.reason ? `${input.deployment.reason} (evaluation ${workflowId})` : `evaluation ${workflowId}`;
        await prompts.moveLabel(input.label.name, input.label.label, input.label.version, { kind: 'move', actor: input.deployment.approvedBy ?? 'anonymous', reason });
      }
      const deploymentId = await deployments.record({ ...input.deployment, decision: input.passed ? 'promoted' : 'refused', report: input.report, workflowId });
      return { deploymentId };
    },
  };
}

export type EvaluateActivities = ReturnType<typeof createEvaluateActivities>;
