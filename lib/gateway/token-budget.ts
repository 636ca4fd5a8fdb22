import { PlatformError } from '../errors';
import type { CounterStore } from './counter-store';
import type { TenantSettings } from './tenant-settings';

type Limits = Pick<TenantSettings['budgets'], 'tokensPerMinute' | 'tokensPerDay'>;

const WINDOWS = [
  { name: 'minute', reason: 'tokens_per_minute', lengthMs: 60_000, limitOf: (limits: Limits) => limits.tokensPerMinute },
  { name: 'day', reason: 'tokens_per_day', lengthMs: 86_400_000, limitOf: (limits: Limits) => limits.tokensPerDay },
] as const;

/** Tokens held for one request until its actual use is known. */
export interface Reservation {
  tenantId: string;
  tokens: number;
  /** The window counters charged, so the settlement corrects the same ones. */
  keys: { key: string; ttlMs: number }[];
}

/**
 * Per-tenant model-token budgets per minute and per UTC day, in fixed windows. A request reserves
 * its estimate before any work; once done, the reservation is corrected to the actual tokens.
 * Exceeding either window answers 429 with the seconds until that window ends.
 */
export class TokenBudget {
  constructor(
    private readonly counters: CounterStore,
    private readonly now: () => number = Date.now,
  ) {}

  async reserve(tenantId: string, limits: Limits, tokens: number): Promise<Reservation> {
    const now = this.now();
    const windows = WINDOWS.map((window) => {
      const start = Math.floor(now / window.lengthMs) * window.lengthMs;
      const endsAt = start + window.lengthMs;
      // A counter outlives its window by a second, so a settlement just after the end still finds it.
      return { ...window, limit: window.limitOf(limits), key: `${tenantId}:${window.name}:${start}`, endsAt, ttlMs: endsAt - now + 1_000 };
    });
    for (const window of windows) {
      if (window.limit !== null && tokens > window.limit) {
        throw new PlatformError('request_exceeds_token_budget', `this request needs about ${tokens} tokens; the tenant's budget is ${window.limit} ${window.reason.replace(/_/g, ' ')}`, 422, {
          reason: window.reason,
          limit: window.limit,
          requested: tokens,
        });
      }
    }
    const outcome = await this.counters.reserve(windows.map((w) => ({ key: w.key, amount: tokens, limit: w.limit, ttlMs: w.ttlMs })));
    if (!outcome.ok) {
      const window = windows[outcome.index] as (typeof windows)[number];
      const retryAfterSeconds = Math.max(1, Math.ceil((window.endsAt - now) / 1000));
      throw new PlatformError('token_budget_exceeded', `token budget exceeded (${window.reason.replace(/_/g, ' ')}); retry in ${retryAfterSeconds} s`, 429, {
        reason: window.reason,
        limit: window.limit,
        used: outcome.used,
        requested: tokens,
        retryAfterSeconds,
      }, { 'retry-after': String(retryAfterSeconds) });
    }
    return { tenantId, tokens, keys: windows.map((w) => ({ key: w.key, ttlMs: w.ttlMs })) };
  }

  /** Replaces the estimate with what the request really used (more or less). */
  async settle(reservation: Reservation, actualTokens: number): Promise<void> {
    const difference = Math.round(actualTokens) - reservation.tokens;
    if (difference === 0) return;
    await this.counters.add(reservation.keys.map(({ key, ttlMs }) => ({ key, amount: difference, ttlMs })));
  }
}
