import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { parseTraceparent, traceContext } from '../../api/plugins/trace-context';

describe('trace context with tracing off', () => {
  it("keeps a caller's valid traceparent and refuses malformed or all-zero ones", () => {
    assert.deepEqual(parseTraceparent('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'), { traceId: '0af7651916cd43dd8448eb211c80319c', parentId: 'b7ad6b7169203331', sampled: true });
    for (const bad of ['00-00000000000000000000000000000000-b7ad6b7169203331-01', '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01', '01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', 'garbage', undefined, ['a']]) {
      assert.equal(parseTraceparent(bad), null, String(bad));
    }
  });

  it("returns the caller's trace id with a span of its own, and a new trace for callers without one", async () => {
    const app = Fastify();
    await app.register(traceContext, { tracing: false });
    app.get('/', async (request) => request.traceContext);
    const continued = await app.inject({ url: '/', headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } });
    assert.equal(continued.json().traceId, '0af7651916cd43dd8448eb211c80319c');
    assert.match(String(continued.headers.traceparent), /^00-0af7651916cd43dd8448eb211c80319c-(?!b7ad6b7169203331)[0-9a-f]{16}-01$/);
    const fresh = await app.inject({ url: '/' });
    assert.match(fresh.json().traceId, /^[0-9a-f]{32}$/);
    assert.notEqual(fresh.json().traceId, '0af7651916cd43dd8448eb211c80319c');
    assert.equal(fresh.headers.traceparent, `00-${fresh.json().traceId}-${fresh.json().spanId}-00`);
    await app.close();
  });
});
