import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { PlatformError } from '../../lib/errors';

/**
 * Checks on the request itself, before any body is read. Compressed bodies are refused: their
 * real size is unknown until inflated, which is how decompression bombs get past a size limit.
 */
export const requestGuards = fp(async (app: FastifyInstance) => {
  app.addHook('onRequest', async (request) => {
    const encoding = request.headers['content-encoding'];
    if (encoding && encoding.trim().toLowerCase() !== 'identity') {
      throw new PlatformError('unsupported_content_encoding', `request bodies are accepted uncompressed only (got content-encoding: ${encoding.slice(0, 40)})`, 415);
    }
  });
});
