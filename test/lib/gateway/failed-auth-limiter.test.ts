import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FailedAuthLimiter } from '../../../lib/gateway/failed-auth-limiter';

describe('FailedAuthLimiter', () => {
  it('refuses an address past its failures until the window ends, and lets keys that worked through', () => {
    const limiter = new FailedAuthLimiter({ maxFailures: 3, windowMs: 60_000 });
    limiter.succeeded('good-key');
    for (let i = 0; i < 3; i++) {
      assert.equal(limiter.retryAfterSeconds('10.0.0.1', 'guess', 1_000), 0, `attempt ${i + 1} is looked up`);
      limiter.failed('10.0.0.1', 1_000);
    }
    assert.equal(limiter.retryAfterSeconds('10.0.0.1', 'guess', 1_000), 60);
    assert.equal(limiter.retryAfterSeconds('10.0.0.1', null, 31_000), 30);
    assert.equal(limiter.retryAfterSeconds('10.0.0.1', 'good-key', 1_000), 0, 'a key that authenticated still passes');
    assert.equal(limiter.retryAfterSeconds('10.0.0.2', 'guess', 1_000), 0, 'other addresses are not affected');
    assert.equal(limiter.retryAfterSeconds('10.0.0.1', 'guess', 61_000), 0, 'a new window');
  });

  it('stays bounded under a flood of addresses', () => {
    const limiter = new FailedAuthLimiter({ maxFailures: 1, windowMs: 60_000, capacity: 100 });
    for (let i = 0; i < 10_000; i++) limiter.failed(`10.1.${i >> 8}.${i & 255}`, 0);
    assert.equal(limiter.retryAfterSeconds('10.1.0.0', 'x', 0), 0, 'the oldest were forgotten');
    assert.ok(limiter.retryAfterSeconds('10.1.39.15', 'x', 0) > 0, 'the newest are remembered');
  });
});
