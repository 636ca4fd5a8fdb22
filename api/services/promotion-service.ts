import { randomBytes } from 'node:crypto';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { PlatformError } from '../../lib/errors';
import { DEFAULT_TOLERANCES, type GateTolerances } from '../../lib/eval/gate';
import { TASK_QUEUES } from '../../lib/ingest/types';
import { ANSWER_PROMPT } from '../../lib/prompts/prompt-ref';
import type { PromptStore } from '../../lib/stores/prompt-store';
import type { EvalSetStore } from '../../lib/stores/eval-set-store';
import { workflowPageUrl } from '../../lib/temporal/ui-links';
import type { evaluateWorkflow } from '../../workflows';
import type { Caller } from '../plugins/auth';
import { requirePlatformAdmin } from './admin-service';
import type { DeploymentService } from './deployment-service';

export interface PromotionRequest {
  version: number;
  /** Whose labeled questions gate the promotion. */
  evalSet: { tenantId: string; collection: string };
  tolerances?: Partial<GateTolerances>;
  reason?: string;
}

/**
 * Gated promotions: a prompt label moves to a candidate version only after `evaluateWorkflow`
 * has answered the eval set under the label's current version (the baseline) and the candidate,
 * and the candidate is no worse beyond the tolerances, passes the safety set and stays within
 * the p95 SLO. Either way the decision and its report are stored as deployment evidence; a
 * refusal answers 409 with the report.
 */
export class PromotionService {
  constructor(
    private readonly temporal: Client,
    private readonly prompts: PromptStore,
    private readonly evalSets: EvalSetStore,
    private readonly deployments: DeploymentService,
    private readonly settings: { temporalUiUrl: string; topK: number; rerankCandidates: number },
  ) {}

  async promote(caller: Caller, name: string, label: string, request: PromotionRequest) {
    requirePlatformAdmin(caller, 'promote prompt versions');
    if (name !== ANSWER_PROMPT) throw new PlatformError('prompt_not_found', `no prompt ${name}; the platform renders ${ANSWER_PROMPT}`, 404);
    if (!(await this.prompts.version(name, request.version))) throw new PlatformError('prompt_version_not_found', `prompt ${name} has no version ${request.version}`, 404);
    const baseline = await this.prompts.labelVersion(name, label);
    if (baseline === null) throw new PlatformError('prompt_label_not_found', `prompt ${name} has no label "${label}"`, 404);
    if (baseline === request.version) throw new PlatformError('already_at_version', `label "${label}" already points at version ${baseline}`, 409);
    const { tenantId, collection } = request.evalSet;
    const questions = await this.evalSets.get(tenantId, collection);
    if (questions.length === 0) {
      throw new PlatformError('no_eval_set', `collection ${collection} of tenant ${tenantId} has no labeled questions; PUT /v1/collections/${collection}/eval-set first`, 422);
    }
    const workflowId = `evaluate/${tenantId}/${collection}/${randomBytes(6).toString('hex')}`;
    const tolerances = { ...DEFAULT_TOLERANCES, ...request.tolerances };
    const handle = await this.temporal.workflow.start<typeof evaluateWorkflow>('evaluateWorkflow', {
      taskQueue: TASK_QUEUES.ingest,
      workflowId,
      args: [
        {
          tenantId,
          collection,
          baseline: { prompt: { name, version: baseline, label } },
          candidate: { prompt: { name, version: request.version, label } },
          tolerances,
          topK: this.settings.topK,
          rerankCandidates: this.settings.rerankCandidates,
          promotion: {
            label: { name, label, version: request.version },
            deployment: {
              kind: 'prompt_label',
              target: `${name}:${label}`,
              fromVersion: String(baseline),
              toVersion: String(request.version),
              approvedBy: caller.principal.keyId,
              reason: request.reason ?? null,
              ...this.deployments.stamp,
            },
          },
        },
      ],
    });
    const workflowUrl = workflowPageUrl(this.settings.temporalUiUrl, this.temporal.options.namespace, workflowId, handle.firstExecutionRunId);
    let result;
    try {
      result = await handle.result();
    } catch (error) {
      if (error instanceof WorkflowFailedError) throw new PlatformError('evaluation_failed', `the evaluation did not finish: ${error.cause?.message ?? error.message}; see ${workflowUrl}`, 502, { workflowId, workflowUrl });
      throw error;
    }
    const outcome = { name, label, fromVersion: baseline, toVersion: request.version, deploymentId: result.deploymentId, workflowId, workflowUrl, report: result.report };
    if (!result.report.passed) {
      throw new PlatformError('promotion_refused', `version ${request.version} did not pass the gate: ${result.report.failures.join('; ')}`, 409, outcome);
    }
    return { decision: 'promoted' as const, ...outcome };
  }
}
