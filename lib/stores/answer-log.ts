import { isoTimestamp, type SqlDatabase } from './sql';

/** Where one of an answer's quotes comes from (the quote itself stays in the answer text). */
export interface CitedChunk {
  documentId: string;
  version: number;
  chunkId: string;
  page: number | null;
}

/** One answer as it was served: what feedback is tied to. */
export interface AnswerRecord {
  tenantId: string;
  id: string;
  keyId: string | null;
  collection: string;
  question: string;
  found: boolean;
  answer: string;
  citations: CitedChunk[];
  provider: string;
  model: string;
  promptVersion: string;
  /** The label that chose the prompt version. */
  promptLabel: string | null;
  experimentId: string | null;
  variant: string | null;
  generation: number | null;
  cacheHit: string;
  fallbacks: number;
  latencyMs: number;
  costUsd: number;
  /** Replies rejected by validation (each repaired, or passed over). */
  repairs: number;
  inputTokens: number;
  outputTokens: number;
  traceId: string;
  workflowId: string;
}

export type Rating = 'up' | 'down';

export interface Feedback {
  rating: Rating;
  comment: string | null;
  correction: string | null;
  expectedChunkId: string | null;
  expectedDocumentId: string | null;
}

export interface StoredFeedback extends Feedback {
  keyId: string | null;
  at: string;
}

export const FEEDBACK_GROUPS = ['prompt', 'variant', 'collection', 'model', 'day'] as const;
export type FeedbackGroup = (typeof FEEDBACK_GROUPS)[number];

/** Column expressions per group; fixed strings, never caller input. */
const GROUP_COLUMNS: Record<FeedbackGroup, string> = {
  prompt: 'a.prompt_version',
  variant: `coalesce(a.variant, '(none)')`,
  collection: 'a.collection',
  model: `a.provider || '/' || a.model`,
  day: `to_char(a.at at time zone 'UTC', 'YYYY-MM-DD')`,
};

export interface FeedbackQuery {
  /** Null: every tenant (operators). */
  tenantId: string | null;
  collection?: string;
  from: Date;
  to: Date;
  groupBy: FeedbackGroup;
}

export interface FeedbackTotals {
  answers: number;
  notFound: number;
  rated: number;
  up: number;
  down: number;
  /** up / rated; null with no ratings. */
  score: number | null;
}

/** An answer with its feedback, as the eval-set export reads it. */
export interface RatedAnswer {
  answerId: string;
  collection: string;
  question: string;
  found: boolean;
  citations: CitedChunk[];
  feedback: Feedback;
}

const COLUMNS = ['tenant_id', 'id', 'key_id', 'collection', 'question', 'found', 'answer', 'citations', 'provider', 'model', 'prompt_version', 'prompt_label', 'experiment_id', 'variant', 'generation', 'cache_hit', 'fallbacks', 'latency_ms', 'cost_usd', 'repairs', 'input_tokens', 'output_tokens', 'trace_id', 'workflow_id'];
const TOTALS = `count(*) as answers, count(*) filter (where not a.found) as not_found, count(f.rating) as rated,
  count(*) filter (where f.rating = 'up') as up, count(*) filter (where f.rating = 'down') as down`;

/** Served answers and the feedback on them; the question texts are kept for as long as the retention says. */
export class AnswerLog {
  constructor(private readonly db: SqlDatabase) {}

  async record(answer: AnswerRecord): Promise<void> {
    const values = [answer.tenantId, answer.id, answer.keyId, answer.collection, answer.question, answer.found, answer.answer, JSON.stringify(answer.citations), answer.provider, answer.model, answer.promptVersion, answer.promptLabel, answer.experimentId, answer.variant, answer.generation, answer.cacheHit, answer.fallbacks, answer.latencyMs, answer.costUsd, answer.repairs, answer.inputTokens, answer.outputTokens, answer.traceId, answer.workflowId];
    await this.db.query(`insert into answers (${COLUMNS.join(', ')}) values (${values.map((_, i) => `$${i + 1}`).join(', ')})`, values);
  }

  /** A tenant's answer, with its feedback if any; null when the tenant has no such answer. */
  async get(tenantId: string, id: string): Promise<(AnswerRecord & { at: string; feedback: StoredFeedback | null }) | null> {
    const [row] = await this.db.query<Record<string, any>>(
      `select a.*, f.rating, f.comment, f.correction, f.expected_chunk_id, f.expected_document_id, f.key_id as feedback_key_id, f.at as feedback_at
       from answers a left join answer_feedback f on f.tenant_id = a.tenant_id and f.answer_id = a.id
       where a.tenant_id = $1 and a.id = $2`,
      [tenantId, id],
    );
    if (!row) return null;
    return {
      tenantId: row.tenant_id,
      id: row.id,
      at: isoTimestamp(row.at),
      keyId: row.key_id,
      collection: row.collection,
      question: row.question,
      found: row.found,
      answer: row.answer,
      citations: row.citations,
      provider: row.provider,
      model: row.model,
      promptVersion: row.prompt_version,
      promptLabel: row.prompt_label ?? null,
      experimentId: row.experiment_id ?? null,
      variant: row.variant,
      repairs: row.repairs,
      inputTokens: row.input_tokens,
      outputTokens: row.output_tokens,
      generation: row.generation,
      cacheHit: row.cache_hit,
      fallbacks: row.fallbacks,
      latencyMs: row.latency_ms,
      costUsd: row.cost_usd,
      traceId: row.trace_id,
      workflowId: row.workflow_id,
      feedback: row.rating ? { ...feedbackOf(row), keyId: row.feedback_key_id, at: isoTimestamp(row.feedback_at) } : null,
    };
  }

  /** Stores (or replaces) the feedback on one of the tenant's answers; `replaced` says whether there was some before. */
  async giveFeedback(tenantId: string, answerId: string, keyId: string | null, feedback: Feedback): Promise<{ replaced: boolean; at: string }> {
    const [row] = await this.db.query<{ at: unknown; replaced: boolean }>(
      `insert into answer_feedback (tenant_id, answer_id, key_id, rating, comment, correction, expected_chunk_id, expected_document_id)
       values ($1, $2, $3, $4, $5, $6, $7, $8)
       on conflict (tenant_id, answer_id) do update set at = now(), key_id = excluded.key_id, rating = excluded.rating, comment = excluded.comment,
         correction = excluded.correction, expected_chunk_id = excluded.expected_chunk_id, expected_document_id = excluded.expected_document_id
       returning at, (xmax <> 0) as replaced`,
      [tenantId, answerId, keyId, feedback.rating, feedback.comment, feedback.correction, feedback.expectedChunkId, feedback.expectedDocumentId],
    );
    return { replaced: Boolean(row?.replaced), at: isoTimestamp(row?.at) };
  }

  /** Answers and their ratings, in total and per group, over a time range. */
  async summarize(query: FeedbackQuery): Promise<{ total: FeedbackTotals; groups: (FeedbackTotals & { group: string })[] }> {
    const params: unknown[] = [query.from.toISOString(), query.to.toISOString()];
    const where = ['a.at >= $1', 'a.at < $2'];
    if (query.tenantId !== null) where.push(`a.tenant_id = $${params.push(query.tenantId)}`);
    if (query.collection) where.push(`a.collection = $${params.push(query.collection)}`);
    const from = `from answers a left join answer_feedback f on f.tenant_id = a.tenant_id and f.answer_id = a.id where ${where.join(' and ')}`;
    const column = GROUP_COLUMNS[query.groupBy];
    const [total] = await this.db.query<Record<string, unknown>>(`select ${TOTALS} ${from}`, params);
    const groups = await this.db.query<Record<string, unknown>>(`select ${column} as grp, ${TOTALS} ${from} group by 1 order by 1`, params);
    return { total: totalsOf(total ?? {}), groups: groups.map((row) => ({ group: String(row.grp), ...totalsOf(row) })) };
  }

  /** The tenant's answers that got feedback in a collection, newest first. */
  async rated(tenantId: string, collection: string, limit: number): Promise<RatedAnswer[]> {
    const rows = await this.db.query<Record<string, any>>(
      `select a.id, a.collection, a.question, a.found, a.citations, f.rating, f.comment, f.correction, f.expected_chunk_id, f.expected_document_id
       from answers a join answer_feedback f on f.tenant_id = a.tenant_id and f.answer_id = a.id
       where a.tenant_id = $1 and a.collection = $2 order by f.at desc limit $3`,
      [tenantId, collection, limit],
    );
    return rows.map((row) => ({ answerId: row.id, collection: row.collection, question: row.question, found: row.found, citations: row.citations, feedback: feedbackOf(row) }));
  }

  /** Forgets answers (and their feedback) older than a moment; returns how many. */
  async prune(before: Date): Promise<number> {
    const rows = await this.db.query('delete from answers where at < $1 returning 1', [before.toISOString()]);
    return rows.length;
  }
}

const feedbackOf = (row: Record<string, any>): Feedback => ({
  rating: row.rating,
  comment: row.comment ?? null,
  correction: row.correction ?? null,
  expectedChunkId: row.expected_chunk_id ?? null,
  expectedDocumentId: row.expected_document_id ?? null,
});

function totalsOf(row: Record<string, unknown>): FeedbackTotals {
  const up = Number(row.up ?? 0);
  const rated = Number(row.rated ?? 0);
  return { answers: Number(row.answers ?? 0), notFound: Number(row.not_found ?? 0), rated, up, down: Number(row.down ?? 0), score: rated ? up / rated : null };
}
