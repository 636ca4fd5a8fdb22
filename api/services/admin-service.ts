import { PlatformError } from '../../lib/errors';
import { PLATFORM_TENANT, tenantSettingsSchema, type Scope, type TenantSettings } from '../../lib/gateway/tenant-settings';
import type { AuditCategory, AuditLog, AuditRecord } from '../../lib/stores/audit-log';
import type { ApiKeyRecord, TenantRecord, TenantStore } from '../../lib/stores/tenant-store';
import type { Caller } from '../plugins/auth';
import type { DeploymentService } from './deployment-service';

/** A partial change: only the sections given are replaced, field by field. */
export interface SettingsChange {
  budgets?: Partial<TenantSettings['budgets']>;
  rateLimit?: Partial<TenantSettings['rateLimit']>;
  guardrails?: Partial<Omit<TenantSettings['guardrails'], 'pii'>> & { pii?: Partial<TenantSettings['guardrails']['pii']> };
  cache?: Partial<TenantSettings['cache']>;
  models?: Partial<TenantSettings['models']>;
}

/**
 * Tenants, keys and the audit log. Operators (admin keys of the `platform` tenant) manage every
 * tenant; a tenant's own admin keys manage that tenant's keys and guardrails, but not what it may
 * spend. Another tenant is answered as not found, never as forbidden: its existence stays private.
 */
export class AdminService {
  constructor(
    private readonly tenants: TenantStore,
    private readonly audit: AuditLog,
    /** The configured chat models: what an allow-list may name. */
    private readonly modelNames: readonly string[] = [],
    /** Where a change to a tenant's model routing is kept as deployment evidence. */
    private readonly deployments?: Pick<DeploymentService, 'record'>,
  ) {}

  async createTenant(caller: Caller, request: { id: string; name: string; settings?: SettingsChange }): Promise<TenantRecord> {
    requirePlatformAdmin(caller, 'create tenants');
    this.checkModels(request.settings);
    const settings = mergeSettings(tenantSettingsSchema.parse({}), request.settings ?? {});
    const tenant = await this.tenants.create({ id: request.id, name: request.name, settings });
    await this.record(caller, tenant.id, 'tenant_created', tenant.id, { name: tenant.name, settings });
    return tenant;
  }

  async listTenants(caller: Caller): Promise<TenantRecord[]> {
    requirePlatformAdmin(caller, 'list tenants');
    return this.tenants.list();
  }

  async getTenant(caller: Caller, tenantId: string): Promise<TenantRecord> {
    return this.visibleTenant(caller, tenantId);
  }

  async updateTenant(caller: Caller, tenantId: string, change: { name?: string; settings?: SettingsChange }): Promise<TenantRecord> {
    const tenant = await this.visibleTenant(caller, tenantId);
    if (!caller.principal.platformAdmin && (change.name !== undefined || change.settings?.budgets || change.settings?.rateLimit || change.settings?.models)) {
      throw new PlatformError('platform_admin_required', "a tenant's name, budgets, rate limits and allowed models are set by the platform's operators", 403);
    }
    this.checkModels(change.settings);
    const settings = change.settings ? mergeSettings(tenant.settings, change.settings) : undefined;
    const updated = (await this.tenants.update(tenantId, { name: change.name, settings })) as TenantRecord;
    await this.record(caller, tenantId, 'tenant_updated', tenantId, { ...(change.name !== undefined && { name: change.name }), ...(change.settings && { settings: change.settings }) });
    const [before, after] = [JSON.stringify(tenant.settings.models), JSON.stringify(updated.settings.models)];
    if (before !== after) {
      // No evaluation gates it (yet): "applied" says so, beside the gated promotions.
      await this.deployments?.record({ kind: 'model_routing', target: tenantId, fromVersion: before, toVersion: after, decision: 'applied', report: null, approvedBy: caller.principal.keyId ?? null, reason: null, workflowId: null });
    }
    return updated;
  }

  /** An allow-list naming a model that is not configured is a typo that would silently lock the tenant out of it. */
  private checkModels(settings: SettingsChange | undefined): void {
    const unknown = (settings?.models?.allowed ?? []).filter((name) => !this.modelNames.includes(name));
    if (unknown.length > 0) throw new PlatformError('unknown_model', `no configured chat model ${unknown.join(', ')} (configured: ${this.modelNames.join(', ') || 'none'})`, 422, { unknown, configured: this.modelNames });
  }

  async issueKey(caller: Caller, tenantId: string, request: { name: string; scopes: Scope[]; rateLimitPerMinute?: number | null }): Promise<{ key: string; record: ApiKeyRecord }> {
    await this.visibleTenant(caller, tenantId);
    if (request.rateLimitPerMinute != null && !caller.principal.platformAdmin) {
      throw new PlatformError('platform_admin_required', "a key's own rate limit is set by the platform's operators", 403);
    }
    const issued = await this.tenants.issueKey({ tenantId, name: request.name, scopes: [...new Set(request.scopes)], rateLimitPerMinute: request.rateLimitPerMinute, createdBy: caller.principal.keyId });
    await this.record(caller, tenantId, 'key_issued', issued.record.id, { name: issued.record.name, scopes: issued.record.scopes, rateLimitPerMinute: issued.record.rateLimitPerMinute });
    return issued;
  }

  async listKeys(caller: Caller, tenantId: string): Promise<ApiKeyRecord[]> {
    await this.visibleTenant(caller, tenantId);
    return this.tenants.listKeys(tenantId);
  }

  async revokeKey(caller: Caller, tenantId: string, keyId: string): Promise<ApiKeyRecord> {
    await this.visibleTenant(caller, tenantId);
    const key = (await this.tenants.listKeys(tenantId)).find((k) => k.id === keyId);
    if (!key) throw new PlatformError('key_not_found', `tenant ${tenantId} has no key ${keyId}`, 404);
    if (tenantId === PLATFORM_TENANT && key.scopes.includes('admin') && !key.revokedAt && (await this.tenants.countActiveKeys(PLATFORM_TENANT, 'admin')) <= 1) {
      throw new PlatformError('last_admin_key', 'this is the last active operator key; issue another before revoking it', 409);
    }
    const revoked = (await this.tenants.revokeKey(tenantId, keyId)) as ApiKeyRecord;
    await this.record(caller, tenantId, 'key_revoked', keyId, { name: key.name });
    return revoked;
  }

  /** A tenant's audit log, oldest first from a cursor. Operators may read any tenant's. */
  async readAudit(caller: Caller, query: { tenantId?: string; after?: number; limit: number; category?: AuditCategory; action?: string }): Promise<AuditRecord[]> {
    const tenantId = query.tenantId ?? caller.principal.tenantId;
    await this.visibleTenant(caller, tenantId);
    return this.audit.list(tenantId, { after: query.after, limit: query.limit, category: query.category, action: query.action });
  }

  /** Admin actions outside this service (re-index, rollback, deletions) are recorded through here too. */
  async record(caller: Caller, tenantId: string, action: string, target: string | null, details: Record<string, unknown>): Promise<void> {
    await this.audit.append({ tenantId, actor: caller.principal.keyId, requestId: caller.requestId, category: 'admin', action, target, details });
  }

  private async visibleTenant(caller: Caller, tenantId: string): Promise<TenantRecord> {
    const visible = caller.principal.platformAdmin || caller.principal.tenantId === tenantId;
    const tenant = visible ? await this.tenants.get(tenantId) : null;
    if (!tenant) throw new PlatformError('tenant_not_found', `no tenant ${tenantId}`, 404);
    return tenant;
  }
}

export function requirePlatformAdmin(caller: Caller, what: string): void {
  if (!caller.principal.platformAdmin) throw new PlatformError('platform_admin_required', `only the platform's operators may ${what}`, 403);
}

function mergeSettings(current: TenantSettings, change: SettingsChange): TenantSettings {
  return tenantSettingsSchema.parse({
    budgets: { ...current.budgets, ...change.budgets },
    rateLimit: { ...current.rateLimit, ...change.rateLimit },
    guardrails: { ...current.guardrails, ...change.guardrails, pii: { ...current.guardrails.pii, ...change.guardrails?.pii } },
    cache: { ...current.cache, ...change.cache },
    models: { ...current.models, ...change.models },
  });
}
