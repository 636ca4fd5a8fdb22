import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PlatformError } from '../../lib/errors';
import type { DocumentRecord } from '../../lib/stores/metadata-store';
import { collectionName, documentId, documentList, documentMetadata, documentView, errorBody, gatewayErrors, jsonUploadBody, uploadAccepted } from '../schemas';
import { callerOf } from '../plugins/auth';
import { nulRefused } from '../plugins/request-guards';
import type { AdminService } from '../services/admin-service';
import type { DeletionAccepted, DocumentService, UploadRequest } from '../services/document-service';

const errors = { ...gatewayErrors, 404: errorBody, 409: errorBody, 413: errorBody, 415: errorBody, 422: errorBody, 503: errorBody };
const ingest = { scopes: ['ingest'] as const };
const upload = { ...ingest, nulTolerant: ['text'] as const };
const readers = { scopes: ['ingest', 'admin'] as const };

export const documentRoutes: FastifyPluginAsyncZod<{ documents: DocumentService; admin: AdminService; maxUploadBytes: number }> = async (app, { documents, admin, maxUploadBytes }) => {
  app.post(
    '/collections/:collection/documents',
    {
      config: upload,
      schema: {
        tags: ['documents'],
        summary: 'Upload a document (multipart `file` + optional `metadata` JSON, `documentId`, `title`; or JSON `{ text, title, metadata, documentId, mediaType }`)',
        params: z.object({ collection: collectionName }),
        response: { 200: uploadAccepted, 202: uploadAccepted, ...errors },
      },
    },
    async (request, reply) => {
      const upload = request.isMultipart() ? await readMultipart(request, maxUploadBytes) : readJson(request.body);
      const accepted = await documents.upload({ ...upload, tenantId: request.tenantId, collection: request.params.collection });
      await admin.record(callerOf(request), request.tenantId, 'document_uploaded', accepted.documentId, {
        collection: accepted.collection,
        version: accepted.version,
        duplicate: accepted.duplicate,
        workflowId: accepted.workflowId,
      });
      // 202: a run was started. 200: nothing new to do (identical bytes already ingested or in flight).
      return reply.status(accepted.started ? 202 : 200).send({
        ...accepted,
        stage: accepted.stage as z.infer<typeof uploadAccepted>['stage'],
        statusUrl: `/v1/documents/${encodeURIComponent(accepted.documentId)}`,
      });
    },
  );

  app.get(
    '/documents/:documentId',
    {
      config: readers,
      schema: {
        tags: ['documents'],
        summary: 'Ingestion stage, counts, active version and errors of one document',
        params: z.object({ documentId }),
        response: { 200: documentView, ...gatewayErrors, 404: errorBody },
      },
    },
    async (request) => toView(await documents.get(request.tenantId, request.params.documentId)),
  );

  app.get(
    '/collections/:collection/documents',
    {
      config: readers,
      schema: {
        tags: ['documents'],
        summary: 'List documents of a collection, by document id',
        params: z.object({ collection: collectionName }),
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100), after: documentId.optional() }),
        response: { 200: documentList, ...gatewayErrors, 404: errorBody },
      },
    },
    async (request) => {
      const { limit, after } = request.query;
      const docs = await documents.list(request.tenantId, request.params.collection, { limit, after });
      return {
        documents: docs.map((doc) => {
          const { versions: _versions, ...summary } = toView(doc);
          return summary;
        }),
        nextCursor: docs.length === limit ? (docs[docs.length - 1]?.documentId ?? null) : null,
      };
    },
  );

  app.delete(
    '/documents/:documentId',
    {
      config: ingest,
      schema: {
        tags: ['documents'],
        summary: 'Delete a document: at once invisible to queries, then a durable run removes its versions, points in every generation, and bytes nothing else shares',
        params: z.object({ documentId }),
        response: { 202: deletionView, ...gatewayErrors, 404: errorBody, 503: errorBody },
      },
    },
    async (request, reply) => {
      const deletion = await documents.delete(request.tenantId, request.params.documentId);
      await admin.record(callerOf(request), request.tenantId, 'document_deleted', deletion.documentId, { collection: deletion.collection, throughVersion: deletion.throughVersion, workflowId: deletion.workflowId });
      return reply.status(202).send(deletionBody(deletion));
    },
  );

  app.get(
    '/documents/:documentId/deletion',
    {
      config: readers,
      schema: {
        tags: ['documents'],
        summary: "A document's deletion: running, completed or failed",
        params: z.object({ documentId }),
        response: { 200: deletionView, ...gatewayErrors, 404: errorBody, 503: errorBody },
      },
    },
    async (request) => deletionBody(await documents.deletion(request.tenantId, request.params.documentId)),
  );
};

const deletionView = z.object({
  documentId: z.string(),
  collection: z.string(),
  throughVersion: z.number().int().describe('versions up to this one are removed; an upload under this id gets a newer version'),
  workflowId: z.string().describe('the deletion run, in the Temporal UI'),
  status: z.enum(['running', 'completed', 'failed']),
  statusUrl: z.string(),
});

const deletionBody = (deletion: DeletionAccepted) => ({ ...deletion, statusUrl: `/v1/documents/${encodeURIComponent(deletion.documentId)}/deletion` });

type ClientUpload = Omit<UploadRequest, 'tenantId' | 'collection'>;

function readJson(body: unknown): ClientUpload {
  const parsed = jsonUploadBody.safeParse(body);
  if (!parsed.success) throw invalid('invalid JSON upload body', parsed.error);
  const { text, title, metadata, documentId: id, mediaType } = parsed.data;
  return { bytes: new TextEncoder().encode(text), declaredContentType: mediaType, title, metadata, documentId: id };
}

/** One `file` part plus small text fields; the file is limited while it streams in. */
async function readMultipart(request: FastifyRequest, maxUploadBytes: number): Promise<ClientUpload> {
  const fields: Record<string, string> = {};
  let file: { bytes: Buffer; filename: string; mimetype: string } | undefined;
  try {
    for await (const part of request.parts({ limits: { fileSize: maxUploadBytes, files: 1, fields: 8, fieldSize: 64 * 1024 } })) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file') throw new PlatformError('invalid_request', `unexpected file field ${part.fieldname}; send the document as "file"`);
        file = { bytes: await part.toBuffer(), filename: part.filename, mimetype: part.mimetype };
      } else {
        const value = String(part.value);
        if (value.includes('\u0000')) throw nulRefused(`field ${part.fieldname}`);
        fields[part.fieldname] = value;
      }
    }
  } catch (error) {
    throw malformedMultipart(error);
  }
  if (!file) throw new PlatformError('invalid_request', 'multipart upload has no "file" part');
  const parsed = z
    .object({ metadata: z.string().optional(), documentId: documentId.optional(), title: z.string().max(500).optional() })
    .safeParse(fields);
  if (!parsed.success) throw invalid('invalid multipart fields', parsed.error);
  return {
    bytes: file.bytes,
    declaredContentType: file.mimetype,
    filename: safeFilename(file.filename),
    title: parsed.data.title,
    metadata: parseMetadataField(parsed.data.metadata),
    documentId: parsed.data.documentId,
  };
}

/** The multipart parser's own errors (no boundary, truncated parts) are the client's: 400, not 500. */
function malformedMultipart(error: unknown): unknown {
  if (PlatformError.isInstance(error) || (error as { code?: unknown }).code !== undefined) return error;
  return new PlatformError('malformed_multipart', `the multipart body cannot be read: ${(error as Error).message}`, 400);
}

function parseMetadataField(raw: string | undefined): Record<string, unknown> {
  if (raw === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new PlatformError('malformed_json', 'the metadata field is not valid JSON');
  }
  const parsed = documentMetadata.safeParse(value);
  if (!parsed.success) throw invalid('invalid metadata', parsed.error);
  return parsed.data;
}

/** Keeps the base name only: a client's path never reaches storage or logs as a path. */
function safeFilename(name: string | undefined): string | undefined {
  const base = name?.split(/[\\/]/).pop()?.replace(/[\u0000-\u001f]/g, '').slice(0, 255);
  return base || undefined;
}

function invalid(message: string, error: z.ZodError): PlatformError {
  return new PlatformError('invalid_request', message, 400, error.issues.map((issue) => ({ path: `/${issue.path.join('/')}`, message: issue.message })));
}

function toView(doc: DocumentRecord): z.infer<typeof documentView> {
  const newest = doc.versions[0];
  const active = doc.versions.find((v) => v.version === doc.activeVersion);
  const shown = active ?? newest;
  return {
    documentId: doc.documentId,
    collection: doc.collection,
    stage: newest?.stage ?? 'queued',
    activeVersion: doc.activeVersion,
    latestVersion: doc.latestVersion,
    pageCount: shown?.pageCount ?? null,
    chunkCount: shown?.chunkCount ?? null,
    error: newest?.error ?? null,
    title: shown?.title ?? shown?.filename ?? null,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
    versions: doc.versions,
  };
}
