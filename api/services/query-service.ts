import { randomBytes, randomUUID } from 'node:crypto';
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { streamChannelFor, type StreamEvent } from '../../lib/answer/answer-stream';
import { STREAM_BROKEN, type AnswerInput, type AnswerResult } from '../../lib/answer/types';
import { PlatformError } from '../../lib/errors';
import { COLLECTION_NOT_FOUND, QUERY_TASK_QUEUE, type RetrieveInput, type RetrievedChunk } from '../../lib/query/types';
import type { SqlDatabase } from '../../lib/stores/sql';
import type { answerQueryWorkflow, retrieveWorkflow } from '../../workflows';
import { workflowPageUrl } from '../../lib/temporal/ui-links';
import { orchestratorUnavailable, promptly } from './orchestrator-unavailable';
import { tenantPriority } from '../../lib/temporal/priority';

/** Where a query can be looked up: its trace (spans, ledger rows) and its workflow run (the Temporal UI). */
export interface QueryRun {
  traceId: string;
  workflowId: string;
  runId: string;
  /** The run's page in the Temporal UI, in the query namespace. */
  workflowUrl: string;
}

/** The version of the Answer shape: bump it when fields are added or changed (cached answers of an older shape are then never served). */
export const ANSWER_FORMAT = 2;

export interface RetrieveAnswer extends QueryRun {
  chunks: RetrievedChunk[];
  latencyMs: { embed: number; search: number; orchestration: number; total: number };
}

export interface Answer extends Omit<AnswerResult, 'calls' | 'latencyMs'>, QueryRun {
  usage: { inputTokens: number; outputTokens: number; costUsd: number; calls: AnswerResult['calls'] };
  /** cache: the answer cache's lookup before the run. */
  latencyMs: AnswerResult['latencyMs'] & { orchestration: number; total: number; cache?: number };
}

export type AnswerRequest = Omit<AnswerInput, 'rerankCandidates' | 'streamChannel'>;

export class QueryService {
  constructor(
    private readonly temporal: Client,
    private readonly db: SqlDatabase,
    private readonly settings: {
      rerankCandidates: number;
      temporalUiUrl: string;
      eagerStart: boolean;
      /** Told how each run's first workflow task reached a worker: in the start response (eager) or through the task queue. */
      onStarted?: (mode: 'retrieve' | 'answer', start: 'eager' | 'queued') => void;
    },
  ) {}

  /** Runs the retrieval workflow and waits for it. */
  async retrieve(input: RetrieveInput): Promise<RetrieveAnswer> {
    const workflowId = newWorkflowId(input.tenantId);
    const started = performance.now();
    const handle = await this.startPromptly('retrieve', () => this.temporal.workflow.start<typeof retrieveWorkflow>('retrieveWorkflow', { ...this.workflowOptions(input.tenantId, workflowId), args: [input] }));
    const result = await this.run(input, () => handle.result());
    const total = performance.now() - started;
    const { embed, search } = result.latencyMs;
    return {
      chunks: result.chunks,
      ...this.runOf(input, handle),
      latencyMs: { embed: round(embed), search: round(search), orchestration: round(total - embed - search), total: round(total) },
    };
  }

  /** Runs the answer workflow and waits for it. */
  async answer(input: AnswerRequest): Promise<Answer> {
    const started = performance.now();
    const handle = await this.start(newWorkflowId(input.tenantId), { ...input, rerankCandidates: this.settings.rerankCandidates });
    const result = await this.run(input, () => handle.result());
    return present(result, this.runOf(input, handle), performance.now() - started);
  }

  /**
   * Streams an answer: text deltas (and resets, when a reply is replaced) as they are published by
   * the generating activity, then the complete answer. Subscribes before the workflow starts, so
   * no event is missed; a client that goes away cancels the run.
   */
  async streamAnswer(input: AnswerRequest, events: { onEvent: (event: StreamEvent) => void; closed: AbortSignal }): Promise<Answer> {
    const workflowId = newWorkflowId(input.tenantId);
    const started = performance.now();
    const channel = streamChannelFor(workflowId);
    const ordered = new OrderedEvents(events.onEvent);
    const unlisten = await this.db.listen(channel, (payload) => ordered.accept(JSON.parse(payload) as StreamEvent));
    let handle: WorkflowHandle | undefined;
    const cancel = () => void handle?.cancel().catch(() => undefined);
    events.closed.addEventListener('abort', cancel, { once: true });
    try {
      const running = await this.start(workflowId, { ...input, rerankCandidates: this.settings.rerankCandidates, streamChannel: channel });
      handle = running;
      const result = await this.run(input, () => running.result());
      return present(result, this.runOf(input, running), performance.now() - started);
    } finally {
      events.closed.removeEventListener('abort', cancel);
      await unlisten();
    }
  }

  private start(workflowId: string, input: AnswerInput) {
    return this.startPromptly('answer', () => this.temporal.workflow.start<typeof answerQueryWorkflow>('answerQueryWorkflow', { ...this.workflowOptions(input.tenantId, workflowId), args: [input] }));
  }

  /** Callers always pass a trace id (the API's trace context); a fresh one stands in for any that does not. */
  private runOf(input: RetrieveInput, handle: WorkflowHandle & { firstExecutionRunId: string }): QueryRun {
    const { workflowId, firstExecutionRunId: runId } = handle;
    return {
      traceId: input.caller?.traceId ?? randomBytes(16).toString('hex'),
      workflowId,
      runId,
      workflowUrl: workflowPageUrl(this.settings.temporalUiUrl, this.temporal.options.namespace, workflowId, runId),
    };
  }

  /** Temporal out of reach: 503 within the call deadline, nothing started. */
  private async startPromptly<T extends { eagerlyStarted: boolean }>(mode: 'retrieve' | 'answer', start: () => Promise<T>): Promise<T> {
    let handle: T;
    try {
      handle = await promptly(this.temporal, start);
    } catch (error) {
      throw orchestratorUnavailable(error, 'nothing was started; ask again');
    }
    this.settings.onStarted?.(mode, handle.eagerlyStarted ? 'eager' : 'queued');
    return handle;
  }

  private workflowOptions(tenantId: string, workflowId: string) {
    // Eager: the first workflow task comes back with the start response to this process's query worker.
    return { taskQueue: QUERY_TASK_QUEUE, workflowId, workflowExecutionTimeout: '5 minutes', priority: tenantPriority(tenantId, 'query'), requestEagerStart: this.settings.eagerStart } as const;
  }

  /** Workflow failures the caller caused, as 4xx; everything else stays a 5xx. */
  private async run<T>(input: { collection: string }, execute: () => Promise<T>): Promise<T> {
    try {
      return await execute();
    } catch (error) {
      const cause = error instanceof WorkflowFailedError ? error.cause?.cause ?? error.cause : undefined;
      if (cause instanceof ApplicationFailure && cause.type === COLLECTION_NOT_FOUND) {
        throw new PlatformError(COLLECTION_NOT_FOUND, `no collection ${input.collection}`, 404);
      }
      if (cause instanceof ApplicationFailure && cause.type === STREAM_BROKEN) {
        throw new PlatformError(STREAM_BROKEN, 'the model failed after the answer began streaming; ask again', 502);
      }
      throw error;
    }
  }
}

/**
 * Notifications can arrive out of order across connections; events are passed on in sequence,
 * segment by segment (each activity call numbers its own events from 0).
 */
export class OrderedEvents {
  private segment = 0;
  private next = 0;
  private readonly waiting = new Map<number, StreamEvent>();

  constructor(private readonly deliver: (event: StreamEvent) => void) {}

  accept(event: StreamEvent): void {
    const segment = event.segment ?? 0;
    if (segment < this.segment) return;
    if (segment > this.segment) {
      this.segment = segment;
      this.next = 0;
      this.waiting.clear();
    }
    this.waiting.set(event.seq, event);
    for (let ready = this.waiting.get(this.next); ready; ready = this.waiting.get(this.next)) {
      this.waiting.delete(this.next++);
      this.deliver(ready);
    }
  }
}

function present(result: AnswerResult, run: QueryRun, totalMs: number): Answer {
  const { calls, latencyMs, ...answer } = result;
  const stages = latencyMs.embed + latencyMs.search + latencyMs.rerank + latencyMs.generate;
  return {
    ...answer,
    ...run,
    usage: {
      inputTokens: sum(calls.map((call) => call.inputTokens)),
      outputTokens: sum(calls.map((call) => call.outputTokens)),
      costUsd: sum(calls.map((call) => call.costUsd)),
      calls,
    },
    latencyMs: {
      embed: round(latencyMs.embed),
      search: round(latencyMs.search),
      rerank: round(latencyMs.rerank),
      generate: round(latencyMs.generate),
      orchestration: round(totalMs - stages),
      total: round(totalMs),
    },
  };
}

const newWorkflowId = (tenantId: string) => `query/${tenantId}/${randomUUID()}`;

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
const round = (ms: number) => Math.round(ms * 10) / 10;
