import type { GateReport, ReindexCounters, ReindexKind, ReindexStage } from '../reindex/types';
import { type SqlDatabase, isoTimestamp as iso } from './sql';

export interface ReindexRunRecord {
  id: string;
  tenantId: string;
  collection: string;
  kind: ReindexKind;
  fromGeneration: number;
  toGeneration: number;
  workflowId: string;
  /** The key that started the run (null: before this was recorded, or no key). */
  requestedBy: string | null;
  stage: ReindexStage;
  paused: boolean;
  documentsTotal: number | null;
  documentsDone: number;
  chunks: number;
  report: GateReport | null;
  startedAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

export interface RunError {
  documentId: string;
  code: string;
  message: string;
}

export interface RunProgressUpdate {
  stage?: ReindexStage;
  paused?: boolean;
  documentsTotal?: number;
  counters?: Omit<ReindexCounters, 'errors'>;
  report?: GateReport;
  finished?: boolean;
}

/** Re-index runs as operators see them through the API: stage, counters, errors, the gate's report. */
export class ReindexRunStore {
  constructor(private readonly db: SqlDatabase) {}

  async create(run: Pick<ReindexRunRecord, 'id' | 'tenantId' | 'collection' | 'kind' | 'fromGeneration' | 'toGeneration' | 'workflowId' | 'requestedBy'>): Promise<void> {
    await this.db.query(
      `insert into reindex_runs (id, tenant_id, collection, kind, from_generation, to_generation, workflow_id, requested_by, stage) values ($1, $2, $3, $4, $5, $6, $7, $8, 'queued')`,
      [run.id, run.tenantId, run.collection, run.kind, run.fromGeneration, run.toGeneration, run.workflowId, run.requestedBy],
    );
  }

  /**
   * Progress of one document, as it happens: what operators watch moves per document. The run
   * writes the absolute counters after each batch, which also corrects a document counted twice by
   * a retried attempt.
   */
  async advance(id: string, progress: { documents: number; chunks: number }): Promise<void> {
    await this.db.query('update reindex_runs set documents_done = documents_done + $2, chunks = chunks + $3, updated_at = now() where id = $1 and finished_at is null', [id, progress.documents, progress.chunks]);
  }

  async update(id: string, update: RunProgressUpdate): Promise<void> {
    const fields: Record<string, unknown> = {
      ...(update.stage !== undefined && { stage: update.stage }),
      ...(update.paused !== undefined && { paused: update.paused }),
      ...(update.documentsTotal !== undefined && { documents_total: update.documentsTotal }),
      ...(update.counters !== undefined && { documents_done: update.counters.documentsDone, chunks: update.counters.chunks }),
      ...(update.report !== undefined && { report: JSON.stringify(update.report) }),
    };
    const names = Object.keys(fields);
    const assignments = [...names.map((name, i) => `${name} = $${i + 2}`), 'updated_at = now()', ...(update.finished ? ['finished_at = now()'] : [])];
    await this.db.query(`update reindex_runs set ${assignments.join(', ')} where id = $1`, [id, ...names.map((n) => fields[n])]);
  }

  async get(tenantId: string, collection: string, id: string): Promise<ReindexRunRecord | null> {
    const [row] = await this.db.query<Record<string, unknown>>('select * from reindex_runs where tenant_id = $1 and collection = $2 and id = $3', [tenantId, collection, id]);
    return row ? toRun(row) : null;
  }

  /** For the run itself, which knows only its id (the API reads through `get`, scoped to a tenant). */
  async byId(id: string): Promise<ReindexRunRecord | null> {
    const [row] = await this.db.query<Record<string, unknown>>('select * from reindex_runs where id = $1', [id]);
    return row ? toRun(row) : null;
  }

  async list(tenantId: string, collection: string, limit = 20): Promise<ReindexRunRecord[]> {
    const rows = await this.db.query<Record<string, unknown>>(
      'select * from reindex_runs where tenant_id = $1 and collection = $2 order by started_at desc limit $3',
      [tenantId, collection, limit],
    );
    return rows.map(toRun);
  }

  async recordError(runId: string, error: RunError): Promise<void> {
    await this.db.query(
      `insert into reindex_errors (run_id, document_id, code, message) values ($1, $2, $3, $4)
       on conflict (run_id, document_id) do update set code = excluded.code, message = excluded.message`,
      [runId, error.documentId, error.code, error.message.slice(0, 2000)],
    );
  }

  async errors(runId: string, limit = 100): Promise<{ total: number; first: RunError[] }> {
    const rows = await this.db.query<{ document_id: string; code: string; message: string }>(
      'select document_id, code, message from reindex_errors where run_id = $1 order by document_id',
      [runId],
    );
    return { total: rows.length, first: rows.slice(0, limit).map((r) => ({ documentId: r.document_id, code: r.code, message: r.message })) };
  }
}

function toRun(row: Record<string, unknown>): ReindexRunRecord {
  return {
    id: row.id as string,
    tenantId: row.tenant_id as string,
    collection: row.collection as string,
    kind: row.kind as ReindexKind,
    fromGeneration: row.from_generation as number,
    toGeneration: row.to_generation as number,
    workflowId: row.workflow_id as string,
    requestedBy: (row.requested_by as string | null) ?? null,
    stage: row.stage as ReindexStage,
    paused: row.paused as boolean,
    documentsTotal: (row.documents_total as number | null) ?? null,
    documentsDone: row.documents_done as number,
    chunks: row.chunks as number,
    report: (row.report as GateReport | null) ?? null,
    startedAt: iso(row.started_at),
    updatedAt: iso(row.updated_at),
    finishedAt: row.finished_at ? iso(row.finished_at) : null,
  };
}
