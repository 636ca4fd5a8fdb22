import type { Redis } from 'ioredis';

/** One counter change: `limit` null means no ceiling for this counter. */
export interface CounterChange {
  key: string;
  amount: number;
  limit: number | null;
  /** The counter belongs to a window: it expires with it. */
  ttlMs: number;
}

export type ReserveResult = { ok: true } | { ok: false; index: number; used: number };

/**
 * Counters that take several changes at once, all or none: a reservation that would take any
 * counter past its limit changes nothing. In memory for one API instance, in Redis for several.
 */
export interface CounterStore {
  reserve(changes: CounterChange[]): Promise<ReserveResult>;
  /** Adds without a limit (negative to give back). */
  add(changes: Omit<CounterChange, 'limit'>[]): Promise<void>;
  close(): Promise<void>;
}

export class MemoryCounterStore implements CounterStore {
  private readonly counters = new Map<string, { value: number; expiresAt: number }>();
  private lastSweep = 0;

  constructor(private readonly now: () => number = Date.now) {}

  async reserve(changes: CounterChange[]): Promise<ReserveResult> {
    this.sweep();
    for (const [index, change] of changes.entries()) {
      const used = this.value(change.key);
      if (change.limit !== null && used + change.amount > change.limit) return { ok: false, index, used };
    }
    await this.add(changes);
    return { ok: true };
  }

  async add(changes: Omit<CounterChange, 'limit'>[]): Promise<void> {
    for (const change of changes) {
      const value = this.value(change.key) + change.amount;
      const current = this.counters.get(change.key);
      this.counters.set(change.key, { value, expiresAt: current && current.expiresAt > this.now() ? current.expiresAt : this.now() + change.ttlMs });
    }
  }

  async close(): Promise<void> {
    this.counters.clear();
  }

  private value(key: string): number {
    const counter = this.counters.get(key);
    return counter && counter.expiresAt > this.now() ? counter.value : 0;
  }

  /** Expired windows go at most once a minute, so memory stays flat however many windows pass. */
  private sweep(): void {
    const now = this.now();
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    for (const [key, counter] of this.counters) if (counter.expiresAt <= now) this.counters.delete(key);
  }
}

/** Check-then-add in one script, so instances sharing the Redis never overshoot a limit together. */
const RESERVE_SCRIPT = `
for i = 1, #KEYS do
  local limit = tonumber(ARGV[(i - 1) * 3 + 2])
  local used = tonumber(redis.call('GET', KEYS[i]) or '0')
  if limit >= 0 and used + tonumber(ARGV[(i - 1) * 3 + 1]) > limit then return {i, used} end
end
for i = 1, #KEYS do
  redis.call('INCRBY', KEYS[i], ARGV[(i - 1) * 3 + 1])
  if redis.call('PTTL', KEYS[i]) < 0 then redis.call('PEXPIRE', KEYS[i], ARGV[(i - 1) * 3 + 3]) end
end
return {0, 0}`;

const ADD_SCRIPT = `
for i = 1, #KEYS do
  redis.call('INCRBY', KEYS[i], ARGV[(i - 1) * 2 + 1])
  if redis.call('PTTL', KEYS[i]) < 0 then redis.call('PEXPIRE', KEYS[i], ARGV[(i - 1) * 2 + 2]) end
end
return 0`;

export class RedisCounterStore implements CounterStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'rag:budget:',
  ) {}

  async reserve(changes: CounterChange[]): Promise<ReserveResult> {
    const args = changes.flatMap((c) => [Math.round(c.amount), c.limit ?? -1, c.ttlMs]);
    const [index, used] = (await this.redis.eval(RESERVE_SCRIPT, changes.length, ...changes.map((c) => this.prefix + c.key), ...args)) as [number, number];
    return index === 0 ? { ok: true } : { ok: false, index: index - 1, used: Number(used) };
  }

  async add(changes: Omit<CounterChange, 'limit'>[]): Promise<void> {
    if (changes.length === 0) return;
    const args = changes.flatMap((c) => [Math.round(c.amount), c.ttlMs]);
    await this.redis.eval(ADD_SCRIPT, changes.length, ...changes.map((c) => this.prefix + c.key), ...args);
  }

  async close(): Promise<void> {
    // The connection is shared with the rate limiter; its owner closes it.
  }
}

/**
 * Shared counters that keep working when Redis does not answer: each change goes to this
 * instance's memory instead, so limits hold per instance (looser by the number of instances)
 * until Redis is back, rather than every request failing.
 */
export class FallbackCounterStore implements CounterStore {
  constructor(
    private readonly shared: CounterStore,
    private readonly local: CounterStore,
    private readonly onError: (error: unknown) => void,
  ) {}

  async reserve(changes: CounterChange[]): Promise<ReserveResult> {
    try {
      return await this.shared.reserve(changes);
    } catch (error) {
      this.onError(error);
      return this.local.reserve(changes);
    }
  }

  async add(changes: Omit<CounterChange, 'limit'>[]): Promise<void> {
    try {
      await this.shared.add(changes);
    } catch (error) {
      this.onError(error);
      await this.local.add(changes);
    }
  }

  async close(): Promise<void> {
    await this.shared.close();
    await this.local.close();
  }
}
