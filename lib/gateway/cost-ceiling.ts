import { PlatformError } from '../errors';
import type { CounterStore } from './counter-store';

const DAY_MS = 86_400_000;
/** Counters hold micro-dollars: integers, so Redis INCRBY and the memory store agree exactly. */
const MICRO = 1_000_000;

/** A request's estimated spend, held until it finishes (the ledger then has what it really cost). */
export interface CostHold {
  key: string;
  micros: number;
  ttlMs: number;
}

/**
 * A tenant's spend per UTC day, capped before the spend: what the ledger says the day has cost so
 * far, plus what requests in flight may still spend, plus this request's estimate must stay under
 * the ceiling. The ledger is the truth (it survives restarts, every process writes it, ingestion
 * included); the in-flight counter (memory, or Redis for several API instances) keeps concurrent
 * requests from each seeing the same room.
 */
export class CostCeiling {
  constructor(
    private readonly counters: CounterStore,
    private readonly spentSince: (tenantId: string, since: Date) => Promise<number>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Null: no ceiling, or nothing to spend (the estimate is free, e.g. extractive answers only). */
  async hold(tenantId: string, ceilingUsd: number | null, estimateUsd: number): Promise<CostHold | null> {
    if (ceilingUsd === null || estimateUsd <= 0) return null;
    const now = this.now();
    const dayStart = Math.floor(now / DAY_MS) * DAY_MS;
    const retryAfterSeconds = Math.max(1, Math.ceil((dayStart + DAY_MS - now) / 1000));
    const details = { reason: 'cost_usd_per_day', limitUsd: ceilingUsd, requestedUsd: round(estimateUsd) };
    if (estimateUsd > ceilingUsd) {
      throw new PlatformError('request_exceeds_cost_ceiling', `this request may cost up to $${round(estimateUsd)}; the tenant's ceiling is $${ceilingUsd} per day`, 422, details);
    }
    const spentUsd = await this.spentSince(tenantId, new Date(dayStart));
    const micros = Math.ceil(estimateUsd * MICRO);
    const key = `${tenantId}:cost-in-flight:${dayStart}`;
    const ttlMs = dayStart + DAY_MS - now + 60_000;
    const room = Math.floor((ceilingUsd - spentUsd) * MICRO);
    const outcome = await this.counters.reserve([{ key, amount: micros, limit: Math.max(0, room), ttlMs }]);
    if (!outcome.ok) {
      const inFlightUsd = outcome.used / MICRO;
      throw new PlatformError(
        'cost_ceiling_reached',
        `the tenant's spend ceiling of $${ceilingUsd} per UTC day is reached ($${round(spentUsd)} spent, $${round(inFlightUsd)} in flight); retry in ${retryAfterSeconds} s`,
        429,
        { ...details, spentUsd: round(spentUsd), inFlightUsd: round(inFlightUsd), retryAfterSeconds },
        { 'retry-after': String(retryAfterSeconds) },
      );
    }
    return { key, micros, ttlMs };
  }

  /** The request finished (or failed): its calls are in the ledger, so the hold goes. */
  async release(hold: CostHold | null): Promise<void> {
    if (hold) await this.counters.add([{ key: hold.key, amount: -hold.micros, ttlMs: hold.ttlMs }]);
  }
}

const round = (usd: number) => Math.round(usd * 1e6) / 1e6;
