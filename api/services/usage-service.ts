import { PlatformError } from '../../lib/errors';
import type { UsageGroup, UsageLedger } from '../../lib/stores/usage-ledger';
import type { Caller } from '../plugins/auth';
import type { AdminService } from './admin-service';

const DAY_MS = 86_400_000;
/** Long enough for a year's report, short enough that one request cannot scan the whole ledger's history at once. */
const MAX_RANGE_DAYS = 400;

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
    const { principal } = caller;
    const tenantId = request.tenantId ?? (principal.platformAdmin ? null : principal.tenantId);
    // Someone else's tenant is "not found" to an admin, as everywhere in the admin API.
    if (tenantId !== null) await this.admin.getTenant(caller, tenantId);
    const to = request.to ? new Date(request.to) : new Date(this.now());
    // By default, the UTC day so far and the 29 before it.
    const from = request.from ? new Date(request.from) : new Date(Math.floor(to.getTime() / DAY_MS) * DAY_MS - 29 * DAY_MS);
    if (from >= to) throw new PlatformError('invalid_range', `from (${from.toISOString()}) must be before to (${to.toISOString()})`, 400);
    if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY_MS) throw new PlatformError('invalid_range', `the range is longer than ${MAX_RANGE_DAYS} days; ask for several`, 400, { maxDays: MAX_RANGE_DAYS });
    const summary = await this.ledger.summarize({ tenantId, from, to, groupBy: request.groupBy });
    return { tenantId, from: from.toISOString(), to: to.toISOString(), groupBy: request.groupBy, ...summary };
  }
}
