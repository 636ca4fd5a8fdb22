import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { PlatformError } from '../../lib/errors';
import { COLLECTION_NOT_FOUND, QUERY_TASK_QUEUE, type RetrieveInput, type RetrievedChunk } from '../../lib/query/types';
import type { retrieveWorkflow } from '../../workflows';

export interface RetrieveAnswer {
  chunks: RetrievedChunk[];
  traceId: string;
  latencyMs: { embed: number; search: number; orchestration: number; total: number };
}

export class QueryService {
  constructor(private readonly temporal: Client) {}

  /** Runs the retrieval workflow and waits for it; its workflow id is the trace id. */
  async retrieve(input: RetrieveInput): Promise<RetrieveAnswer> {
    const traceId = `query/${input.tenantId}/${randomUUID()}`;
    const started = performance.now();
    try {
      const result = await this.temporal.workflow.execute<typeof retrieveWorkflow>('retrieveWorkflow', {
        taskQueue: QUERY_TASK_QUEUE,
        workflowId: traceId,
        args: [input],
        workflowExecutionTimeout: '1 minute',
      });
      const total = performance.now() - started;
      const { embed, search } = result.latencyMs;
      return { chunks: result.chunks, traceId, latencyMs: { embed: round(embed), search: round(search), orchestration: round(total - embed - search), total: round(total) } };
    } catch (error) {
      const cause = error instanceof WorkflowFailedError ? error.cause?.cause ?? error.cause : undefined;
      if (cause instanceof ApplicationFailure && cause.type === COLLECTION_NOT_FOUND) {
        throw new PlatformError(COLLECTION_NOT_FOUND, `no collection ${input.collection}`, 404);
      }
      throw error;
    }
  }
}

const round = (ms: number) => Math.round(ms * 10) / 10;
