import { type SqlDatabase, isoTimestamp as iso } from './sql';

export type AuditCategory = 'admin' | 'guardrail';

export interface AuditEntry {
  tenantId: string;
  /** The API key id that acted, or `system`. */
  actor: string | null;
  requestId: string | null;
  category: AuditCategory;
  action: string;
  target: string | null;
  /** Never secrets, never raw personal data: counts, codes and ids. */
  details: Record<string, unknown>;
}

export interface AuditRecord extends AuditEntry {
  id: number;
  at: string;
}

/** Append-only: the table refuses updates, deletes and truncation (a trigger), whoever asks. */
export class AuditLog {
  constructor(private readonly db: SqlDatabase) {}

  async append(entry: AuditEntry): Promise<void> {
    await this.db.query(
      'insert into audit_log (tenant_id, actor, request_id, category, action, target, details) values ($1, $2, $3, $4, $5, $6, $7)',
      [entry.tenantId, entry.actor, entry.requestId, entry.category, entry.action, entry.target, JSON.stringify(entry.details)],
    );
  }

  /** Oldest first from a cursor (the last id seen), so a reader can follow the log. */
  async list(tenantId: string, options: { after?: number; limit: number; category?: AuditCategory; action?: string }): Promise<AuditRecord[]> {
    const rows = await this.db.query<Record<string, unknown>>(
      `select * from audit_log where tenant_id = $1 and id > $2 and ($3::text is null or category = $3) and ($4::text is null or action = $4) order by id limit $5`,
      [tenantId, options.after ?? 0, options.category ?? null, options.action ?? null, options.limit],
    );
    return rows.map((row) => ({
      id: Number(row.id),
      at: iso(row.at),
      tenantId: row.tenant_id as string,
      actor: (row.actor as string | null) ?? null,
      requestId: (row.request_id as string | null) ?? null,
      category: row.category as AuditCategory,
      action: row.action as string,
      target: (row.target as string | null) ?? null,
      details: (row.details as Record<string, unknown>) ?? {},
    }));
  }
}
