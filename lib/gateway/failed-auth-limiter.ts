import { createHash } from 'node:crypto';

export interface FailedAuthLimiterOptions {
  /** Failed attempts one client address may make per window before it is refused without a lookup. */
  maxFailures: number;
  windowMs: number;
  /** Addresses and keys remembered at most (oldest forgotten first): memory stays bounded under a flood. */
  capacity?: number;
}

/**
 * Limits failed authentication per client address, in this process: past the limit, an address
 * gets 429 without a key lookup until its window ends, so a flood of guessed keys costs neither
 * the database nor other tenants' latency. Keys that authenticated recently still pass (several
 * users behind one address keep working while one of them floods).
 */
export class FailedAuthLimiter {
  private readonly failures = new Map<string, { count: number; windowStart: number }>();
  private readonly goodKeys = new Map<string, true>();
  private readonly capacity: number;

  constructor(private readonly options: FailedAuthLimiterOptions) {
    this.capacity = options.capacity ?? 10_000;
  }

  /** Seconds until the address may try again, or 0 if it may try now (or the key is one that worked). */
  retryAfterSeconds(address: string, key: string | null | undefined, now = Date.now()): number {
    const entry = this.failures.get(address);
    if (!entry || now - entry.windowStart >= this.options.windowMs || entry.count < this.options.maxFailures) return 0;
    if (key && this.goodKeys.has(digest(key))) return 0;
    return Math.max(1, Math.ceil((entry.windowStart + this.options.windowMs - now) / 1000));
  }

  failed(address: string, now = Date.now()): void {
    const entry = this.failures.get(address);
    if (!entry || now - entry.windowStart >= this.options.windowMs) remember(this.failures, address, { count: 1, windowStart: now }, this.capacity);
    else entry.count++;
  }

  succeeded(key: string): void {
    remember(this.goodKeys, digest(key), true, this.capacity);
  }
}

const digest = (key: string) => createHash('sha256').update(key).digest('base64url');

/** Insertion-ordered Map as a bounded store: re-inserting refreshes, the oldest goes first. */
function remember<V>(map: Map<string, V>, key: string, value: V, capacity: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > capacity) map.delete(map.keys().next().value as string);
}
