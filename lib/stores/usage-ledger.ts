import type { SqlDatabase } from './sql';

/** One model or embedding call, as the ledger keeps it. */
export interface UsageEvent {
  tenantId: string;
  keyId: string | null;
  collection: string | null;
  purpose: 'query' | 'ingest' | 'reindex';
  operation: 'chat' | 'embeddings';
  /** The configured candidate for chat calls (`primary`, `local`), the runtime for embeddings (`onnxruntime`, `openai`). */
  provider: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  latencyMs: number;
  /** `valid`, `invalid_output`, `failed`, `skipped_circuit_open` for chat; `ok` for embeddings. */
  outcome: string;
  promptVersion?: string | null;
  traceId?: string | null;
  workflowId?: string | null;
  requestId?: string | null;
}

export const USAGE_GROUPS = ['day', 'model', 'key', 'collection', 'operation', 'purpose', 'tenant'] as const;
export type UsageGroup = (typeof USAGE_GROUPS)[number];

/** Column expressions per group; fixed strings, never caller input. */
const GROUP_COLUMNS: Record<UsageGroup, string> = {
  day: `to_char(at at time zone 'UTC', 'YYYY-MM-DD')`,
  model: `provider || '/' || model`,
  key: `coalesce(key_id, '(no key)')`,
  collection: `coalesce(collection, '(none)')`,
  operation: 'operation',
  purpose: 'purpose',
  tenant: 'tenant_id',
};

export interface UsageQuery {
  /** Null: every tenant (operators). */
  tenantId: string | null;
  from: Date;
  to: Date;
  groupBy: UsageGroup;
}

export interface UsageTotals {
  calls: number;
  failedCalls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  latencyMsP50: number | null;
  latencyMsP95: number | null;
}

const COLUMNS = ['tenant_id', 'key_id', 'collection', 'purpose', 'operation', 'provider', 'model', 'input_tokens', 'output_tokens', 'cost_usd', 'latency_ms', 'outcome', 'prompt_version', 'trace_id', 'workflow_id', 'request_id'];
const TOTALS = `count(*) as calls, count(*) filter (where outcome in ('failed', 'invalid_output')) as failed_calls,
  coalesce(sum(input_tokens), 0) as input_tokens, coalesce(sum(output_tokens), 0) as output_tokens, coalesce(sum(cost_usd), 0) as cost_usd,
  percentile_cont(0.5) within group (order by latency_ms) as p50, percentile_cont(0.95) within group (order by latency_ms) as p95`;

/** The usage and cost ledger: append-only rows, summed on read. */
export class UsageLedger {
  constructor(private readonly db: SqlDatabase) {}

  async record(events: UsageEvent[]): Promise<void> {
    if (events.length === 0) return;
    const params: unknown[] = [];
    const rows = events.map((event) => {
      const values = [event.tenantId, event.keyId, event.collection, event.purpose, event.operation, event.provider, event.model, Math.round(event.inputTokens), Math.round(event.outputTokens), event.costUsd, event.latencyMs, event.outcome, event.promptVersion ?? null, event.traceId ?? null, event.workflowId ?? null, event.requestId ?? null];
      return `(${values.map((value) => (params.push(value), `$${params.length}`)).join(', ')})`;
    });
    await this.db.query(`insert into usage_events (${COLUMNS.join(', ')}) values ${rows.join(', ')}`, params);
  }

  /** Median and 95th percentile latency of successful chat calls per candidate since a moment, for those with at least `minCalls`. */
  async chatLatencies(since: Date, minCalls: number): Promise<Map<string, { p50: number; p95: number; calls: number }>> {
    const rows = await this.db.query<{ provider: string; p50: number; p95: number; calls: string | number }>(
      `select provider, percentile_cont(0.5) within group (order by latency_ms) as p50, percentile_cont(0.95) within group (order by latency_ms) as p95, count(*) as calls
       from usage_events where operation = 'chat' and outcome = 'valid' and at >= $1 group by provider having count(*) >= $2`,
      [since.toISOString(), minCalls],
    );
    return new Map(rows.map((row) => [row.provider, { p50: Number(row.p50), p95: Number(row.p95), calls: Number(row.calls) }]));
  }

  /** A tenant's spend in USD since a moment (cost ceilings read the UTC day so far). */
  async spentSince(tenantId: string, since: Date): Promise<number> {
    const [row] = await this.db.query<{ spent: number | string | null }>('select coalesce(sum(cost_usd), 0) as spent from usage_events where tenant_id = $1 and at >= $2', [tenantId, since.toISOString()]);
    return Number(row?.spent ?? 0);
  }

  /** Totals over [from, to), grouped, largest cost first; and the grand total. */
  async summarize(query: UsageQuery): Promise<{ groups: (UsageTotals & { group: string })[]; total: UsageTotals }> {
    const where = `at >= $1 and at < $2 and ($3::text is null or tenant_id = $3)`;
    const params = [query.from.toISOString(), query.to.toISOString(), query.tenantId];
    const column = GROUP_COLUMNS[query.groupBy];
    const groups = await this.db.query<Record<string, unknown>>(`select ${column} as grp, ${TOTALS} from usage_events where ${where} group by grp order by cost_usd desc, grp`, params);
    const [total] = await this.db.query<Record<string, unknown>>(`select ${TOTALS} from usage_events where ${where}`, params);
    return { groups: groups.map((row) => ({ group: String(row.grp), ...totals(row) })), total: totals(total ?? {}) };
  }
}

function totals(row: Record<string, unknown>): UsageTotals {
  const optional = (value: unknown) => (value === null || value === undefined ? null : Math.round(Number(value) * 10) / 10);
  return {
    calls: Number(row.calls ?? 0),
    failedCalls: Number(row.failed_calls ?? 0),
    inputTokens: Number(row.input_tokens ?? 0),
    outputTokens: Number(row.output_tokens ?? 0),
    costUsd: Number(row.cost_usd ?? 0),
    latencyMsP50: optional(row.p50),
    latencyMsP95: optional(row.p95),
  };
}
