import { generateApiKey, hashApiKey, newKeyId } from '../gateway/api-key';
import { readTenantSettings, type Scope, type TenantSettings } from '../gateway/tenant-settings';
import { PlatformError } from '../errors';
import { type SqlDatabase, isoTimestamp as iso } from './sql';

export interface TenantRecord {
  id: string;
  name: string;
  settings: TenantSettings;
  createdAt: string;
  updatedAt: string;
}

export interface ApiKeyRecord {
  id: string;
  tenantId: string;
  name: string;
  /** The first characters of the key, to recognise it; never enough to use it. */
  prefix: string;
  scopes: Scope[];
  rateLimitPerMinute: number | null;
  createdBy: string | null;
  createdAt: string;
  revokedAt: string | null;
}

/** What a request presenting a key acts as: looked up on every request, so revocation is immediate. */
export interface Principal {
  key: ApiKeyRecord;
  tenant: TenantRecord;
}

export interface NewApiKey {
  tenantId: string;
  name: string;
  scopes: Scope[];
  rateLimitPerMinute?: number | null;
  createdBy: string | null;
}

/** Tenants and their API keys. Keys are stored as SHA-256 hashes only. */
export class TenantStore {
  constructor(private readonly db: SqlDatabase) {}

  async create(tenant: { id: string; name: string; settings: TenantSettings }): Promise<TenantRecord> {
    const [row] = await this.db.query<Record<string, unknown>>(
      'insert into tenants (id, name, settings) values ($1, $2, $3) on conflict (id) do nothing returning *',
      [tenant.id, tenant.name, JSON.stringify(tenant.settings)],
    );
    if (!row) throw new PlatformError('tenant_exists', `tenant ${tenant.id} already exists`, 409);
    return toTenant(row);
  }

  async get(id: string): Promise<TenantRecord | null> {
    const [row] = await this.db.query<Record<string, unknown>>('select * from tenants where id = $1', [id]);
    return row ? toTenant(row) : null;
  }

  async list(): Promise<TenantRecord[]> {
    return (await this.db.query<Record<string, unknown>>('select * from tenants order by id')).map(toTenant);
  }

  async update(id: string, change: { name?: string; settings?: TenantSettings }): Promise<TenantRecord | null> {
    const [row] = await this.db.query<Record<string, unknown>>(
      `update tenants set name = coalesce($2, name), settings = coalesce($3::jsonb, settings), updated_at = now() where id = $1 returning *`,
      [id, change.name ?? null, change.settings ? JSON.stringify(change.settings) : null],
    );
    return row ? toTenant(row) : null;
  }

  /** Issues a key; the plaintext is returned this once and never stored. */
  async issueKey(request: NewApiKey): Promise<{ key: string; record: ApiKeyRecord }> {
    const { key, hash, prefix } = generateApiKey();
    return { key, record: await this.insertKey(request, hash, prefix) };
  }

  /** Registers a key the operator chose (BOOTSTRAP_ADMIN_KEY) by its hash; idempotent. */
  async ensureKey(request: NewApiKey & { key: string }): Promise<ApiKeyRecord> {
    const existing = await this.db.query<Record<string, unknown>>('select * from api_keys where key_hash = $1', [hashApiKey(request.key)]);
    if (existing[0]) return toKey(existing[0]);
    return this.insertKey(request, hashApiKey(request.key), `${request.key.slice(0, 4)}…`);
  }

  async listKeys(tenantId: string): Promise<ApiKeyRecord[]> {
    return (await this.db.query<Record<string, unknown>>('select * from api_keys where tenant_id = $1 order by created_at, id', [tenantId])).map(toKey);
  }

  async countActiveKeys(tenantId: string, scope: Scope): Promise<number> {
    const [row] = await this.db.query<{ n: string | number }>(
      `select count(*) as n from api_keys where tenant_id = $1 and revoked_at is null and scopes @> $2::jsonb`,
      [tenantId, JSON.stringify([scope])],
    );
    return Number(row?.n ?? 0);
  }

  /** Revokes at once: the next request with the key is refused. Null if the tenant has no such key. */
  async revokeKey(tenantId: string, keyId: string): Promise<ApiKeyRecord | null> {
    const [row] = await this.db.query<Record<string, unknown>>(
      'update api_keys set revoked_at = coalesce(revoked_at, now()) where tenant_id = $1 and id = $2 returning *',
      [tenantId, keyId],
    );
    return row ? toKey(row) : null;
  }

  /** The key and its tenant in one indexed lookup; revoked keys are returned too, so callers can say so. */
  async authenticate(key: string): Promise<Principal | null> {
    const [row] = await this.db.query<Record<string, unknown>>(
      `select k.*, t.name as tenant_name, t.settings as tenant_settings, t.created_at as tenant_created_at, t.updated_at as tenant_updated_at
       from api_keys k join tenants t on t.id = k.tenant_id where k.key_hash = $1`,
      [hashApiKey(key)],
    );
    if (!row) return null;
    return {
      key: toKey(row),
      tenant: toTenant({ id: row.tenant_id, name: row.tenant_name, settings: row.tenant_settings, created_at: row.tenant_created_at, updated_at: row.tenant_updated_at }),
    };
  }

  private async insertKey(request: NewApiKey, hash: string, prefix: string): Promise<ApiKeyRecord> {
    const [row] = await this.db.query<Record<string, unknown>>(
      `insert into api_keys (id, tenant_id, name, key_hash, prefix, scopes, rate_limit_per_minute, created_by) values ($1, $2, $3, $4, $5, $6, $7, $8) returning *`,
      [newKeyId(), request.tenantId, request.name, hash, prefix, JSON.stringify(request.scopes), request.rateLimitPerMinute ?? null, request.createdBy],
    );
    return toKey(row as Record<string, unknown>);
  }
}

function toTenant(row: Record<string, unknown>): TenantRecord {
  return { id: row.id as string, name: row.name as string, settings: readTenantSettings(row.settings), createdAt: iso(row.created_at), updatedAt: iso(row.updated_at) };
}

function toKey(row: Record<string, unknown>): ApiKeyRecord {
  return {
    id: row.id as string,
    tenantId: row.tenant_id as string,
    name: row.name as string,
    prefix: row.prefix as string,
    scopes: row.scopes as Scope[],
    rateLimitPerMinute: (row.rate_limit_per_minute as number | null) ?? null,
    createdBy: (row.created_by as string | null) ?? null,
    createdAt: iso(row.created_at),
    revokedAt: row.revoked_at ? iso(row.revoked_at) : null,
  };
}
