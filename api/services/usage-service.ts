import type { UsageGroup, UsageLedger } from '../../lib/stores/usage-ledger';
import type { Caller } from '../plugins/auth';
import type { AdminService } from './admin-service';
import { reportRange, reportTenant } from './report-scope';


export interface UsageRequest {
  /** Operators: one tenant, or every tenant when absent. Admins: their own, always. */
  tenantId?: string;
  from?: string;
  to?: string;
  groupBy: UsageGroup;
}

/** Usage and cost from the ledger: admins see their tenant, operators any tenant or all of them. */
export class UsageService {
  constructor(
    private readonly ledger: UsageLedger,
    private readonly admin: Pick<AdminService, 'getTenant'>,
    private readonly now: () => number = Date.now,
  ) {}

  async report(caller: Caller, request: UsageRequest) {
    const tenantId = reportTenant(caller.principal, request.tenantId);
    // Someone else's tenant is "not found" to an admin, as everywhere in the admin API.
    if (tenantId !== null) await this.admin.getTenant(caller, tenantId);
    const { from, to } = reportRange(request, this.now());
    const summary = await this.ledger.summarize({ tenantId, from, to, groupBy: request.groupBy });
    return { tenantId, from: from.toISOString(), to: to.toISOString(), groupBy: request.groupBy, ...summary };
  }
}
