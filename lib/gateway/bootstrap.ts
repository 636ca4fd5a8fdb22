import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config';
import type { TenantStore } from '../stores/tenant-store';
import { PLATFORM_TENANT } from './tenant-settings';

/**
 * The first operator key. BOOTSTRAP_ADMIN_KEY is registered by its hash (idempotent). Without
 * it, a deployment that has no operator key yet gets one, written once to a file only its user
 * can read: the key never goes to the logs.
 */
export async function ensureOperatorKey(config: Config, tenants: TenantStore): Promise<{ keyFile: string | null }> {
  const operator = { tenantId: PLATFORM_TENANT, name: 'bootstrap operator key', scopes: ['admin' as const], createdBy: 'system' };
  if (config.BOOTSTRAP_ADMIN_KEY) {
    await tenants.ensureKey({ ...operator, key: config.BOOTSTRAP_ADMIN_KEY });
    return { keyFile: null };
  }
  const keyFile = join(config.DATA_DIR, 'operator-key');
  if ((await tenants.countActiveKeys(PLATFORM_TENANT, 'admin')) > 0) return { keyFile: existsSync(keyFile) ? keyFile : null };
  const { key } = await tenants.issueKey(operator);
  writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });
  chmodSync(keyFile, 0o600);
  return { keyFile };
}
