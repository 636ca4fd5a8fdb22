import { isoTimestamp, type SqlDatabase } from './sql';

export interface Variant {
  name: string;
  /** Percent of the experiment's traffic; an experiment's weights sum to 100. */
  weight: number;
  /** The prompt label this variant answers with; unset: the request's (production by default). */
  promptLabel?: string;
  /** The configured chat model routed first; unset: the routing policy's order. */
  model?: string;
}

export type ExperimentState = 'draft' | 'running' | 'stopped';

export interface Experiment {
  tenantId: string;
  id: string;
  name: string;
  collection: string | null;
  variants: Variant[];
  state: ExperimentState;
  createdBy: string | null;
  createdAt: string;
  startedAt: string | null;
  stoppedAt: string | null;
}

export interface VariantResult {
  variant: string;
  answers: number;
  notFound: number;
  /** Answers with at least one reply rejected by validation and repaired (or failed over). */
  repaired: number;
  /** Answers where a candidate was passed over. */
  fellBack: number;
  latencyMsP50: number | null;
  latencyMsP95: number | null;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  rated: number;
  up: number;
  down: number;
}

const experimentOf = (row: Record<string, any>): Experiment => ({
  tenantId: row.tenant_id,
  id: row.id,
  name: row.name,
  collection: row.collection ?? null,
  variants: row.variants,
  state: row.state,
  createdBy: row.created_by ?? null,
  createdAt: isoTimestamp(row.created_at),
  startedAt: row.started_at ? isoTimestamp(row.started_at) : null,
  stoppedAt: row.stopped_at ? isoTimestamp(row.stopped_at) : null,
});

/** Experiments per tenant, and the results of their variants summed from the answer log. */
export class ExperimentStore {
  constructor(private readonly db: SqlDatabase) {}

  async create(experiment: Pick<Experiment, 'tenantId' | 'id' | 'name' | 'collection' | 'variants' | 'createdBy'>): Promise<Experiment> {
    const [row] = await this.db.query<Record<string, any>>(
      `insert into experiments (tenant_id, id, name, collection, variants, state, created_by) values ($1, $2, $3, $4, $5, 'draft', $6) returning *`,
      [experiment.tenantId, experiment.id, experiment.name, experiment.collection, JSON.stringify(experiment.variants), experiment.createdBy],
    );
    return experimentOf(row as Record<string, any>);
  }

  async get(tenantId: string, id: string): Promise<Experiment | null> {
    const [row] = await this.db.query<Record<string, any>>('select * from experiments where tenant_id = $1 and id = $2', [tenantId, id]);
    return row ? experimentOf(row) : null;
  }

  async list(tenantId: string): Promise<Experiment[]> {
    return (await this.db.query<Record<string, any>>('select * from experiments where tenant_id = $1 order by created_at desc, id', [tenantId])).map(experimentOf);
  }

  /**
   * Moves an experiment from one state to the next; null when it was not in `from`. Starting
   * fails with a unique violation (code 23505) when another one runs on the same scope.
   */
  async transition(tenantId: string, id: string, from: ExperimentState, to: ExperimentState): Promise<Experiment | null> {
    const stamp = to === 'running' ? 'started_at' : 'stopped_at';
    const [row] = await this.db.query<Record<string, any>>(`update experiments set state = $3, ${stamp} = now() where tenant_id = $1 and id = $2 and state = $4 returning *`, [tenantId, id, to, from]);
    return row ? experimentOf(row) : null;
  }

  /** The running experiment that covers a question: one on its collection, else one on all collections. */
  async runningFor(tenantId: string, collection: string): Promise<Experiment | null> {
    const [row] = await this.db.query<Record<string, any>>(
      `select * from experiments where tenant_id = $1 and state = 'running' and (collection = $2 or collection is null) order by collection nulls last limit 1`,
      [tenantId, collection],
    );
    return row ? experimentOf(row) : null;
  }

  async results(tenantId: string, id: string): Promise<VariantResult[]> {
    const rows = await this.db.query<Record<string, any>>(
      `select a.variant, count(*) as answers, count(*) filter (where not a.found) as not_found,
         count(*) filter (where a.repairs > 0) as repaired, count(*) filter (where a.fallbacks > 0) as fell_back,
         percentile_cont(0.5) within group (order by a.latency_ms) as p50, percentile_cont(0.95) within group (order by a.latency_ms) as p95,
         coalesce(sum(a.input_tokens), 0) as input_tokens, coalesce(sum(a.output_tokens), 0) as output_tokens, coalesce(sum(a.cost_usd), 0) as cost_usd,
         count(f.rating) as rated, count(*) filter (where f.rating = 'up') as up, count(*) filter (where f.rating = 'down') as down
       from answers a left join answer_feedback f on f.tenant_id = a.tenant_id and f.answer_id = a.id
       where a.tenant_id = $1 and a.experiment_id = $2 group by a.variant order by a.variant`,
      [tenantId, id],
    );
    return rows.map((row) => ({
      variant: row.variant,
      answers: Number(row.answers),
      notFound: Number(row.not_found),
      repaired: Number(row.repaired),
      fellBack: Number(row.fell_back),
      latencyMsP50: row.p50 === null ? null : Number(row.p50),
      latencyMsP95: row.p95 === null ? null : Number(row.p95),
      inputTokens: Number(row.input_tokens),
      outputTokens: Number(row.output_tokens),
      costUsd: Number(row.cost_usd),
      rated: Number(row.rated),
      up: Number(row.up),
      down: Number(row.down),
    }));
  }
}
