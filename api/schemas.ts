import { z } from 'zod';
import { INGEST_STAGES, MEDIA_TYPES } from '../lib/ingest/types';
import { REINDEX_STAGES } from '../lib/reindex/types';

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

const chunking = z.object({ chunkSizeTokens: z.number().int(), chunkOverlapTokens: z.number().int() });

export const generationView = z.object({
  generation: z.number().int(),
  state: z.enum(['building', 'live', 'retained', 'failed', 'cancelled', 'dropped']),
  embeddingModel: z.string(),
  dimensions: z.number().int(),
  chunking,
  createdAt: z.string(),
  retiredAt: z.string().nullable(),
});

export const collectionView = z.object({
  name: z.string(),
  liveGeneration: z.number().int().describe('the generation the collection alias points at: what queries read'),
  embeddingModel: z.string(),
  chunking,
  generations: z.array(generationView),
  evalQuestions: z.number().int().describe('labeled questions the re-index gate measures recall with'),
});

export const reindexBody = z
  .object({
    embeddingModel: z.string().min(1).max(200).optional(),
    chunkSizeTokens: z.number().int().min(16).max(8192).optional(),
    chunkOverlapTokens: z.number().int().min(0).max(4096).optional(),
    gate: z
      .object({
        k: z.number().int().min(1).max(100).optional(),
        recallMargin: z.number().min(0).max(1).optional().describe('how much lower than the live generation recall@k may be'),
      })
      .strict()
      .optional(),
  })
  .strict()
  .default({});

const gateReport = z.object({
  passed: z.boolean(),
  reasons: z.array(z.string()),
  documents: z.object({
    expected: z.number().int(),
    present: z.number().int(),
    missing: z.array(z.string()),
    wrongChunkCount: z.array(z.object({ documentId: z.string(), expected: z.number().int(), found: z.number().int() })),
  }),
  recall: z.object({ k: z.number().int(), questions: z.number().int(), live: z.number(), candidate: z.number(), margin: z.number(), passed: z.boolean() }).nullable(),
});

export const reindexRunView = z.object({
  id: z.string(),
  kind: z.enum(['reindex', 'rollback']),
  collection: z.string(),
  fromGeneration: z.number().int(),
  toGeneration: z.number().int(),
  workflowId: z.string().describe('find it in the Temporal UI, or filter by RagCollection'),
  stage: z.enum(REINDEX_STAGES),
  paused: z.boolean(),
  documentsTotal: z.number().int().nullable(),
  documentsDone: z.number().int(),
  chunks: z.number().int(),
  report: gateReport.nullable().describe("the gate's findings, once it ran"),
  startedAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.string().nullable(),
});

export const reindexRunDetail = reindexRunView.extend({
  errors: z.object({ total: z.number().int(), first: z.array(z.object({ documentId: z.string(), code: z.string(), message: z.string() })) }),
  etaSeconds: z.number().int().nullable(),
});

export const labeledQuestion = z.object({
  question: z.string().min(1).max(2000),
  relevantDocumentIds: z.array(documentId).min(1).max(100),
});

export const evalSetBody = z.object({ questions: z.array(labeledQuestion).max(1000) }).strict();
