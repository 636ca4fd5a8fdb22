import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { PlatformError } from '../../../lib/errors';
import { MemoryCounterStore, RedisCounterStore, type CounterStore } from '../../../lib/gateway/counter-store';
import { TokenBudget } from '../../../lib/gateway/token-budget';
import { startRedis } from '../../helpers/redis';

const limits = { tokensPerMinute: 100, tokensPerDay: 250 };
const rejection = (code: string) => (error: unknown) => PlatformError.isInstance(error) && error.code === code;

function budgetSuite(name: string, open: () => Promise<{ counters: CounterStore; close(): Promise<void> }>, skip?: string) {
  describe(`TokenBudget (${name})`, { skip }, () => {
    let now = Date.UTC(2026, 10, 22, 10, 0, 15); // 45 s before the minute ends
    let counters: CounterStore;
    let close: () => Promise<void>;
    before(async () => ({ counters, close } = await open()));
    after(async () => close?.());

    it('reserves estimates, answers 429 with the seconds left in the window, and settles on actual tokens', async () => {
      const budget = new TokenBudget(counters, () => now);
      const first = await budget.reserve('t1', limits, 60);
      await assert.rejects(budget.reserve('t1', limits, 60), (error) => {
        assert.ok(PlatformError.isInstance(error));
        assert.equal(error.statusCode, 429);
        assert.deepEqual(error.details, { reason: 'tokens_per_minute', limit: 100, used: 60, requested: 60, retryAfterSeconds: 45 });
        assert.deepEqual(error.headers, { 'retry-after': '45' });
        return true;
      });
      await budget.settle(first, 20); // the answer took fewer tokens than estimated
      await budget.reserve('t1', limits, 60);
      assert.ok(await budget.reserve('t2', limits, 100), 'tenants have budgets of their own');
    });

    it('counts the day across minutes, until UTC midnight', async () => {
      const budget = new TokenBudget(counters, () => now);
      now += 60_000; // next minute: the minute counter is fresh, the day has 80 used by t1
      await budget.reserve('t1', limits, 90);
      now += 60_000;
      await budget.reserve('t1', limits, 80); // day: 80 + 90 + 80 = 250
      now += 60_000;
      await assert.rejects(budget.reserve('t1', limits, 1), (error) => {
        assert.ok(rejection('token_budget_exceeded')(error) && PlatformError.isInstance(error));
        const details = error.details as { reason: string; retryAfterSeconds: number };
        const midnight = Date.UTC(2026, 10, 23);
        assert.equal(details.reason, 'tokens_per_day');
        assert.equal(details.retryAfterSeconds, Math.ceil((midnight - now) / 1000));
        return true;
      });
    });

    it('refuses a request larger than the whole budget with 422, not a Retry-After that would never help', async () => {
      await assert.rejects(new TokenBudget(counters, () => now).reserve('t3', limits, 101), rejection('request_exceeds_token_budget'));
    });
  });
}

budgetSuite('in memory', async () => {
  const counters = new MemoryCounterStore(() => Date.UTC(2026, 10, 22, 10, 0, 15));
  return { counters, close: () => counters.close() };
});

const redisSkip = startRedis.unavailable() || undefined;
budgetSuite(
  'Redis',
  async () => {
    const server = await startRedis();
    const redis = new Redis(server.url);
    await redis.flushall();
    return {
      counters: new RedisCounterStore(redis, `test:${Date.now()}:`),
      async close() {
        await redis.quit();
        await server.stop();
      },
    };
  },
  redisSkip,
);
