import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { PlatformError } from '../../lib/errors';

/**
 * Checks on the request itself, before any body is read. Compressed bodies are refused: their
 * real size is unknown until inflated, which is how decompression bombs get past a size limit.
 */
declare module 'fastify' {
  interface FastifyContextConfig {
    /** Top-level body fields that may hold NUL (document text: parsing drops control characters, as for files). */
    nulTolerant?: readonly string[];
  }
}

export const requestGuards = fp(async (app: FastifyInstance) => {
  // The database cannot store NUL in text: refused here, for every field of every route, as a 400.
  app.addHook('preValidation', async (request) => {
    const tolerated = new Set(request.routeOptions.config?.nulTolerant ?? []);
    for (const [part, value] of [['body', request.body], ['query', request.query], ['params', request.params]] as const) {
      const path = nulPath(part === 'body' && tolerated.size > 0 && value && typeof value === 'object' ? Object.fromEntries(Object.entries(value).filter(([k]) => !tolerated.has(k))) : value);
      if (path !== null) throw nulRefused(`${part}${path}`);
    }
  });

  app.addHook('onRequest', async (request) => {
    const encoding = request.headers['content-encoding'];
    if (encoding && encoding.trim().toLowerCase() !== 'identity') {
      throw new PlatformError('unsupported_content_encoding', `request bodies are accepted uncompressed only (got content-encoding: ${encoding.slice(0, 40)})`, 415);
    }
  });
});

export function nulRefused(where: string): PlatformError {
  return new PlatformError('invalid_character', `${where} holds a NUL character (U+0000), which cannot be stored`, 400, { path: where });
}

/** Where the first string (or key) holding U+0000 sits, as a JSON-pointer-like path; null if none. Iterative: bodies may nest deep. */
export function nulPath(root: unknown): string | null {
  const stack: [unknown, string][] = [[root, '']];
  while (stack.length > 0) {
    const [value, path] = stack.pop() as [unknown, string];
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return path || '/';
    } else if (value !== null && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        if (key.includes('\u0000')) return `${path}/${key.replaceAll('\u0000', '\\u0000')}`;
        stack.push([child, `${path}/${key}`]);
      }
    }
  }
  return null;
}
