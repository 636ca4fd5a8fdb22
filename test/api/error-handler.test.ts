import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { errorHandler } from '../../api/plugins/error-handler';
import { PlatformError } from '../../lib/errors';

describe('error handler', () => {
  it('answers 5xx in the one error shape without internals, and keeps a PlatformError\'s headers', async () => {
    const app = Fastify({ genReqId: () => 'req-1' });
    await app.register(errorHandler, { maxUploadBytes: 1024 * 1024 });
    app.get('/boom', async () => {
      throw new Error('connect ECONNREFUSED 10.0.0.7:5432 password=hunter2 at /srv/app/lib/stores/sql.ts:42');
    });
    app.get('/limited', async () => {
      throw new PlatformError('token_budget_exceeded', 'budget spent', 429, { retryAfterSeconds: 7 }, { 'retry-after': '7' });
    });
    try {
      const boom = await app.inject({ method: 'GET', url: '/boom' });
      assert.equal(boom.statusCode, 500);
      assert.deepEqual(boom.json(), { error: { code: 'internal_error', message: 'internal error; quote the request id when reporting it', requestId: 'req-1' } });
      assert.doesNotMatch(boom.body, /hunter2|10\.0\.0\.7|sql\.ts|ECONNREFUSED/);

      const limited = await app.inject({ method: 'GET', url: '/limited' });
      assert.equal(limited.statusCode, 429);
      assert.equal(limited.headers['retry-after'], '7');
      assert.deepEqual(limited.json().error.details, { retryAfterSeconds: 7 });
    } finally {
      await app.close();
    }
  });
});
