import { PlatformError } from '../../lib/errors';

const DAY_MS = 86_400_000;
/** Long enough for a year's report, short enough that one request cannot scan a table's whole history at once. */
const MAX_RANGE_DAYS = 400;

/** A report's `[from, to)`: by default the UTC day so far and the 29 before it; 400 when empty or too long. */
export function reportRange(request: { from?: string; to?: string }, now: number): { from: Date; to: Date } {
  const to = request.to ? new Date(request.to) : new Date(now);
  const from = request.from ? new Date(request.from) : new Date(Math.floor(to.getTime() / DAY_MS) * DAY_MS - 29 * DAY_MS);
  if (from >= to) throw new PlatformError('invalid_range', `from (${from.toISOString()}) must be before to (${to.toISOString()})`, 400);
  if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY_MS) throw new PlatformError('invalid_range', `the range is longer than ${MAX_RANGE_DAYS} days; ask for several`, 400, { maxDays: MAX_RANGE_DAYS });
  return { from, to };
}

/** Whose rows a report covers: the one asked for, else the caller's tenant, or every tenant for operators. */
export function reportTenant(principal: { tenantId: string; platformAdmin: boolean }, asked: string | undefined): string | null {
  return asked ?? (principal.platformAdmin ? null : principal.tenantId);
}
