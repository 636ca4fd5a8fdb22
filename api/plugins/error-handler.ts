import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { DocumentErrorCode, PlatformError } from '../../lib/errors';
import type { Metrics } from '../../lib/telemetry/metrics';

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown; requestId: string };
}

/** Fastify's own error codes that are the client's fault, mapped to ours. */
const FASTIFY_CODES: Record<string, { status: number; code: string; message?: string }> = {
  FST_PARTS_LIMIT: { status: 413, code: 'too_many_parts' },
  FST_FILES_LIMIT: { status: 413, code: 'too_many_files', message: 'send one file per request' },
  FST_FIELDS_LIMIT: { status: 413, code: 'too_many_fields' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: DocumentErrorCode.unsupportedMediaType, message: 'send multipart/form-data or application/json' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'malformed_json', message: 'the JSON body is empty' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'malformed_json', message: 'the body is not valid JSON' },
  FST_INVALID_MULTIPART_CONTENT_TYPE: { status: 415, code: 'malformed_multipart' },
};

/**
 * One error shape for every route: `{ error: { code, message, details?, requestId } }`.
 * 4xx say what was wrong; 5xx never leak internals.
 */
export const errorHandler = fp(async (app: FastifyInstance, { maxUploadBytes, metrics }: { maxUploadBytes: number; metrics?: Metrics }) => {
  // Codes are ours (a closed set), so every refusal can be counted by code: rate limits, budgets, bad input, outages.
  const count = (status: number, code: string) => metrics?.refusals.inc({ code, http_response_status_code: String(status) });
  const limit = formatBytes(maxUploadBytes);
  const tooLarge: Record<string, string> = {
    FST_ERR_CTP_BODY_TOO_LARGE: `the request body is larger than the limit: documents up to ${limit} (MAX_UPLOAD_BYTES), plus 64 KiB for a JSON envelope`,
    FST_REQ_FILE_TOO_LARGE: `the file is larger than the limit of ${limit} (MAX_UPLOAD_BYTES)`,
  };
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const requestId = String(request.id);
    const send = (status: number, code: string, message: string, details?: unknown) => {
      count(status, code);
      return reply.status(status).send({ error: { code, message, ...(details !== undefined && { details }), requestId } } satisfies ErrorBody);
    };

    if (PlatformError.isInstance(error)) {
      if (error.headers) reply.headers(error.headers);
      return send(error.statusCode, error.code, error.message, error.details);
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const details = error.validation.map((issue) => ({ path: issue.instancePath || '/', message: issue.message }));
      return send(400, 'invalid_request', `invalid ${error.validationContext ?? 'request'}`, details);
    }
    const oversize = error.code ? tooLarge[error.code] : undefined;
    if (oversize) return send(413, DocumentErrorCode.documentTooLarge, oversize, { limitBytes: maxUploadBytes });
    const known = error.code ? FASTIFY_CODES[error.code] : undefined;
    if (known) return send(known.status, known.code, known.message ?? error.message);
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return send(error.statusCode, 'bad_request', error.message);
    }
    request.log.error({ err: error }, 'unhandled error');
    return send(500, 'internal_error', 'internal error; quote the request id when reporting it');
  });

  app.setNotFoundHandler((request, reply) => {
    count(404, 'route_not_found');
    return reply.status(404).send({ error: { code: 'route_not_found', message: `no route ${request.method} ${request.url.split('?')[0]}`, requestId: String(request.id) } });
  });
});

function formatBytes(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}
