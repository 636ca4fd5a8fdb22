import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PlatformError } from '../../../lib/errors';
import { CostCeiling } from '../../../lib/gateway/cost-ceiling';
import { MemoryCounterStore } from '../../../lib/gateway/counter-store';
import { migrate } from '../../../lib/stores/migrations';
import { openEmbeddedPostgres, type SqlDatabase } from '../../../lib/stores/sql';
import { UsageLedger, type UsageEvent } from '../../../lib/stores/usage-ledger';

const call = (extra: Partial<UsageEvent>): UsageEvent => ({
  tenantId: 't1', keyId: 'key_000000000001', collection: 'docs', purpose: 'query', operation: 'chat', provider: 'primary', model: 'm1',
  inputTokens: 100, outputTokens: 10, costUsd: 0.5, latencyMs: 200, outcome: 'valid', ...extra,
});

describe('usage ledger and cost ceiling (PGlite)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'usage-ledger-'));
  let db: SqlDatabase;
  let ledger: UsageLedger;
  const day = (iso: string) => new Date(iso);

  before(async () => {
    db = await openEmbeddedPostgres(dir);
    await migrate(db);
    ledger = new UsageLedger(db);
    await ledger.record([
      call({}),
      call({ outcome: 'invalid_output', latencyMs: 400 }),
      call({ operation: 'embeddings', provider: 'onnxruntime', model: 'minilm', outputTokens: 0, costUsd: 0, latencyMs: 5, outcome: 'ok', keyId: null, purpose: 'ingest' }),
      call({ tenantId: 't2', costUsd: 2, collection: 'other' }),
    ]);
    // Yesterday's row, moved back in time: outside today's spend.
    await db.query(`insert into usage_events (tenant_id, purpose, operation, provider, model, input_tokens, output_tokens, cost_usd, latency_ms, outcome, at) values ('t1', 'query', 'chat', 'primary', 'm1', 1, 1, 7, 1, 'valid', now() - interval '1 day')`);
  });
  after(async () => {
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sums one tenant over a range, grouped, dearest first, with latency percentiles', async () => {
    const now = Date.now();
    const report = await ledger.summarize({ tenantId: 't1', from: new Date(now - 3_600_000), to: new Date(now + 60_000), groupBy: 'operation' });
    assert.deepEqual(report.total, { calls: 3, failedCalls: 1, inputTokens: 300, outputTokens: 20, costUsd: 1, latencyMsP50: 200, latencyMsP95: 380 });
    assert.deepEqual(report.groups.map((g) => [g.group, g.calls, g.costUsd]), [['chat', 2, 1], ['embeddings', 1, 0]]);
    const byKey = await ledger.summarize({ tenantId: 't1', from: new Date(now - 3_600_000), to: new Date(now + 60_000), groupBy: 'key' });
    assert.deepEqual(byKey.groups.map((g) => g.group).sort(), ['(no key)', 'key_000000000001']);
  });

  it('sums every tenant for operators, and a day back when the range says so', async () => {
    const now = Date.now();
    const all = await ledger.summarize({ tenantId: null, from: new Date(now - 2 * 86_400_000), to: new Date(now + 60_000), groupBy: 'tenant' });
    assert.deepEqual(all.groups.map((g) => [g.group, g.costUsd]), [['t1', 8], ['t2', 2]]);
    const empty = await ledger.summarize({ tenantId: 't1', from: day('2020-01-01T00:00:00Z'), to: day('2020-01-02T00:00:00Z'), groupBy: 'day' });
    assert.deepEqual(empty, { groups: [], total: { calls: 0, failedCalls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, latencyMsP50: null, latencyMsP95: null } });
  });

  it('refuses a request once the day spent plus what is in flight plus its estimate passes the ceiling, and lets it go again when holds are released', async () => {
    const ceiling = new CostCeiling(new MemoryCounterStore(), (tenantId, since) => ledger.spentSince(tenantId, since));
    // t1 spent $1 today (yesterday's $7 does not count): a $3 ceiling leaves room for one $1.5 request, not two.
    const first = await ceiling.hold('t1', 3, 1.5);
    await assert.rejects(ceiling.hold('t1', 3, 1.5), (error) => {
      assert.ok(PlatformError.isInstance(error));
      assert.equal(error.code, 'cost_ceiling_reached');
      assert.equal(error.statusCode, 429);
      const details = error.details as Record<string, number>;
      assert.equal(details.spentUsd, 1);
      assert.equal(details.inFlightUsd, 1.5);
      assert.ok(Number(details.retryAfterSeconds) > 0 && Number(details.retryAfterSeconds) <= 86_400);
      return true;
    });
    await ceiling.release(first);
    await ceiling.release(await ceiling.hold('t1', 3, 1.5));
    // Another tenant's spend is its own.
    assert.ok(await ceiling.hold('t2', 3, 0.9));
    await assert.rejects(ceiling.hold('t1', 1, 1.5), (error) => PlatformError.isInstance(error) && error.code === 'request_exceeds_cost_ceiling' && error.statusCode === 422);
    // No ceiling, or nothing to spend: no hold at all.
    assert.equal(await ceiling.hold('t1', null, 100), null);
    assert.equal(await ceiling.hold('t1', 0.5, 0), null);
  });
});
