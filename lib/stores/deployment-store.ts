import { isoTimestamp, type SqlDatabase, type SqlExecutor } from './sql';

/** promoted / refused: by a gate; rolled_back; applied: a change no gate evaluates. */
export type DeploymentDecision = 'promoted' | 'refused' | 'rolled_back' | 'applied';

/** A prompt label moved to a version; a collection's live generation swapped (re-index or rollback); a tenant's model routing changed. */
export type DeploymentKind = 'prompt_label' | 'generation_swap' | 'model_routing';

export interface NewDeployment {
  kind: DeploymentKind;
  target: string;
  fromVersion: string | null;
  toVersion: string;
  decision: DeploymentDecision;
  platformCommit: string;
  configHash: string;
  report: unknown;
  approvedBy: string | null;
  reason: string | null;
  workflowId: string | null;
}

export interface Deployment extends NewDeployment {
  id: number;
  at: string;
}

const COLUMNS = ['kind', 'target', 'from_version', 'to_version', 'decision', 'platform_commit', 'config_hash', 'report', 'approved_by', 'reason', 'workflow_id'];

const deploymentOf = (row: Record<string, any>, withReport: boolean): Deployment => ({
  id: Number(row.id),
  at: isoTimestamp(row.at),
  kind: row.kind,
  target: row.target,
  fromVersion: row.from_version ?? null,
  toVersion: row.to_version,
  decision: row.decision,
  platformCommit: row.platform_commit,
  configHash: row.config_hash,
  report: withReport ? (row.report ?? null) : undefined,
  approvedBy: row.approved_by ?? null,
  reason: row.reason ?? null,
  workflowId: row.workflow_id ?? null,
});

async function insert(db: SqlExecutor, d: NewDeployment): Promise<number> {
  const values = [d.kind, d.target, d.fromVersion, d.toVersion, d.decision, d.platformCommit, d.configHash, d.report === null || d.report === undefined ? null : JSON.stringify(d.report), d.approvedBy, d.reason, d.workflowId];
  const [row] = await db.query<{ id: string | number }>(`insert into deployments (${COLUMNS.join(', ')}) values (${values.map((_, i) => `$${i + 1}`).join(', ')}) returning id`, values);
  return Number(row?.id);
}

/** Deployment evidence: append-only rows, one per promotion decision or rollback. */
export class DeploymentStore {
  constructor(private readonly db: SqlDatabase) {}

  async record(deployment: NewDeployment): Promise<number> {
    return insert(this.db, deployment);
  }

  /**
   * Once per workflow run and kind: an activity retried after it wrote (its completion lost)
   * finds the row there and adds none. Returns the row's id either way.
   */
  async recordOnce(deployment: NewDeployment & { workflowId: string }): Promise<number> {
    return this.db.transaction(async (tx) => {
      const [existing] = await tx.query<{ id: string | number }>('select id from deployments where kind = $1 and workflow_id = $2', [deployment.kind, deployment.workflowId]);
      return existing ? Number(existing.id) : insert(tx, deployment);
    });
  }

  /** Newest first, without the reports (read one for its report). */
  async list(options: { kind?: string; target?: string; limit: number }): Promise<Deployment[]> {
    const rows = await this.db.query<Record<string, any>>(
      `select ${['id', 'at', ...COLUMNS.filter((c) => c !== 'report')].join(', ')} from deployments
       where ($1::text is null or kind = $1) and ($2::text is null or target = $2) order by id desc limit $3`,
      [options.kind ?? null, options.target ?? null, options.limit],
    );
    return rows.map((row) => deploymentOf(row, false));
  }

  async get(id: number): Promise<Deployment | null> {
    const [row] = await this.db.query<Record<string, any>>('select * from deployments where id = $1', [id]);
    return row ? deploymentOf(row, true) : null;
  }
}
