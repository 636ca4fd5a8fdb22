import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ingestPolicies, startStack, type Stack } from '../helpers/stack';
import { waitFor } from '../helpers/temporal';

/**
 * A 45 MB plain-text upload, under the 50 MiB limit, in the all-in-one process: parsing runs in a
 * worker thread, so the API keeps answering while it runs (it used to block the event loop for
 * seconds on every try, failing health checks and heartbeats), and the document ends with a code.
 */
describe('a heavy upload does not stall the API', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
    await ingestPolicies(stack.api);
  });
  after(() => stack?.close());

  it('keeps /healthz and queries answering while 45 MB of text is parsed, then fails the document with text_too_long', async () => {
    const line = 'The quick brown fox jumps over the lazy dog while the data keeps streaming in. ';
    const bytes = new TextEncoder().encode(line.repeat(Math.ceil((45 * 1024 * 1024) / line.length)).slice(0, 45 * 1024 * 1024));
    const upload = await stack.api.upload('heavy', { bytes, filename: 'big.txt', type: 'text/plain' }, { documentId: 'big' });
    assert.equal(upload.status, 202, JSON.stringify(upload.body));

    const probes: number[] = [];
    let done = false;
    const probing = (async () => {
      while (!done) {
        const started = performance.now();
        const health = await fetch(`${stack.baseUrl}/healthz`);
        probes.push(performance.now() - started);
        assert.equal(health.status, 200);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const answered = await stack.api.postJson('/v1/query', { collection: 'policies', question: 'How often are passwords rotated?' });
    assert.equal(answered.status, 200);
    const doc = await waitFor('big fails', async () => (await stack.api.get('/v1/documents/big')).body, (d) => d.stage === 'failed', 300_000, 200);
    done = true;
    await probing;
    assert.equal(doc.error.code, 'text_too_long', JSON.stringify(doc.error));
    probes.sort((a, b) => a - b);
    const worst = probes.at(-1) ?? 0;
    assert.ok(probes.length >= 3, `probed ${probes.length} times`);
    assert.ok(worst < 1_500, `the slowest health check took ${worst.toFixed(0)} ms (p50 ${probes[Math.floor(probes.length / 2)]?.toFixed(0)} ms)`);
  });
});
