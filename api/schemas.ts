import { z } from 'zod';
import { INGEST_STAGES, MEDIA_TYPES } from '../lib/ingest/types';

/** Lowercase, digits, '-' and single '_': `__` separates tenant, collection and generation in index names. */
export const collectionName = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]|_(?!_)){0,62}$/, 'collection names are 1-63 characters of a-z, 0-9, "-" and single "_", starting with a letter or digit');

/** No '/' or '..': ids appear in workflow ids and storage keys. */
export const documentId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'document ids are 1-128 characters of A-Z, a-z, 0-9, ".", "_", ":" and "-", starting with a letter or digit');

const metadataValue = z.union([z.string().max(1000), z.number().finite(), z.boolean()]);

/** Flat, so every key can be a search filter. */
export const documentMetadata = z
  .record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'metadata keys are 1-64 characters of A-Z, a-z, 0-9, "_", "." and "-"'), z.union([metadataValue, z.array(metadataValue).max(100)]))
  .refine((value) => Object.keys(value).length <= 64, 'at most 64 metadata keys')
  .default({});

export const jsonUploadBody = z.object({
  text: z.string().min(1, 'text must not be empty'),
  title: z.string().max(500).optional(),
  metadata: documentMetadata,
  documentId: documentId.optional(),
  mediaType: z.enum(['text/plain', 'text/markdown', 'text/html']).default('text/plain'),
});

export const uploadAccepted = z.object({
  documentId: z.string(),
  collection: z.string(),
  version: z.number().int(),
  workflowId: z.string(),
  stage: z.enum(INGEST_STAGES),
  duplicate: z.boolean().describe('the same bytes were uploaded before; no new version was made'),
  statusUrl: z.string(),
});

const errorInfo = z.object({ code: z.string(), message: z.string() }).nullable();

export const versionView = z.object({
  version: z.number().int(),
  stage: z.enum(INGEST_STAGES),
  sha256: z.string(),
  sizeBytes: z.number().int(),
  mediaType: z.enum(MEDIA_TYPES),
  filename: z.string().nullable(),
  title: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  pageCount: z.number().int().nullable(),
  chunkCount: z.number().int().nullable(),
  chunksEmbedded: z.number().int(),
  error: errorInfo,
  workflowId: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const documentView = z.object({
  documentId: z.string(),
  collection: z.string(),
  stage: z.enum(INGEST_STAGES).describe('stage of the newest version'),
  activeVersion: z.number().int().nullable().describe('the version queries see; null until one is ready'),
  latestVersion: z.number().int(),
  pageCount: z.number().int().nullable().describe('of the active version, else of the newest'),
  chunkCount: z.number().int().nullable(),
  error: errorInfo,
  title: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  versions: z.array(versionView),
});

export const documentList = z.object({
  documents: z.array(documentView.omit({ versions: true })),
  nextCursor: z.string().nullable(),
});

export const errorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional(), requestId: z.string() }),
});
