import type { Payload, PayloadCodec } from '@temporalio/common';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PlatformError } from '../../lib/errors';
import { apiKeyFrom } from '../../lib/gateway/api-key';
import { SESSION_COOKIE } from '../plugins/auth';
import { errorBody } from '../schemas';

const SESSION_SECONDS = 8 * 3600;

const base64 = z.string().max(8 * 1024 * 1024).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64');
const payloadsJson = z.object({
  payloads: z
    .array(z.object({ metadata: z.record(z.string().max(256), base64).optional(), data: base64.optional() }))
    .max(10_000),
});
type PayloadsJson = z.infer<typeof payloadsJson>;

const fromJson = ({ payloads }: PayloadsJson): Payload[] =>
  payloads.map((p) => ({
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(p.data ?? '', 'base64'),
  }));
const toJson = (payloads: Payload[]): PayloadsJson => ({
  payloads: payloads.map((p) => ({
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')])),
    data: Buffer.from(p.data ?? []).toString('base64'),
  })),
});

/**
 * Temporal's remote codec protocol (`POST /codec/encode`, `/codec/decode`), so the Temporal UI and
 * CLI show operators decrypted payloads. One namespace holds every tenant's runs: only platform
 * operators (admin keys of the `platform` tenant) may decode. The CLI sends the key as a header
 * (`--codec-auth "Bearer <key>"`); a browser signs in once at /codec/session and the UI, with
 * "include cross-origin credentials" on, sends the session cookie.
 */
export const codecRoutes: FastifyPluginAsyncZod<{ codec: PayloadCodec | null }> = async (app, { codec }) => {
  const operatorOnly = { scopes: ['admin'] as const, sessionCookie: true };
  for (const direction of ['encode', 'decode'] as const) {
    app.post(
      `/codec/${direction}`,
      {
        config: operatorOnly,
        schema: {
          tags: ['operations'],
          summary: `Temporal remote codec: ${direction} payloads (platform operators only)`,
          body: payloadsJson,
          response: { 200: payloadsJson, 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 422: errorBody, 429: errorBody },
        },
      },
      async (request) => {
        if (!request.principal.platformAdmin) throw new PlatformError('operator_only', 'payloads of every tenant decode here: only platform operators may use the codec server', 403);
        if (!codec) throw new PlatformError('payload_encryption_off', 'payload encryption is off (PAYLOAD_ENCRYPTION=off): there is nothing to decode', 404);
        const payloads = fromJson(request.body);
        try {
          return toJson(direction === 'encode' ? await codec.encode(payloads) : await codec.decode(payloads));
        } catch (error) {
          throw new PlatformError('undecodable_payload', (error as Error).message, 422);
        }
      },
    );
  }

  // A browser session: the key goes into an HttpOnly cookie scoped to /codec, sent only to this site.
  app.post(
    '/codec/session',
    {
      // The key itself, sent as a header: a session cannot extend itself.
      config: { scopes: ['admin'] as const },
      schema: { tags: ['operations'], summary: 'Start a browser session for the codec server with an operator key', response: { 204: z.null(), 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 429: errorBody } },
    },
    async (request, reply) => {
      if (!request.principal.platformAdmin) throw new PlatformError('operator_only', 'only platform operators may use the codec server', 403);
      reply.setCookie(SESSION_COOKIE, apiKeyFrom(request.headers) as string, { httpOnly: true, sameSite: 'strict', path: '/codec', maxAge: SESSION_SECONDS });
      return reply.code(204).send(null);
    },
  );
  app.get('/codec/session', { schema: { hide: true } }, async (_request, reply) => reply.type('text/html; charset=utf-8').send(SIGN_IN_PAGE));
};

/** Signs a browser in: the key is sent once, as a header, from this page of the same origin. */
const SIGN_IN_PAGE = `<!doctype html>
<meta charset="utf-8"><title>Codec server sign-in</title>
<form id="f"><label>Operator key <input id="k" type="password" autocomplete="off" size="60"></label> <button>Sign in</button></form>
<p id="s"></p>
<script>
document.getElementById('f').onsubmit = async (e) => {
  e.preventDefault();
  const r = await fetch('/codec/session', { method: 'POST', headers: { authorization: 'Bearer ' + document.getElementById('k').value } });
  document.getElementById('s').textContent = r.status === 204 ? 'Signed in for 8 hours: the Temporal UI now shows decoded payloads (its codec server setting must include cross-origin credentials).' : 'Refused (' + r.status + ')';
};
</script>`;
