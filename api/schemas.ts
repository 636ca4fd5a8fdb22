import { z } from 'zod';
import { INGEST_STAGES, MEDIA_TYPES } from '../lib/ingest/types';
import { REINDEX_STAGES } from '../lib/reindex/types';
import { SCOPES, tenantIdSchema, tenantSettingsSchema } from '../lib/gateway/tenant-settings';
import { FILTERABLE_TYPES } from '../lib/stores/vector-index';

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

/** What the gateway may answer on any route: bad input, no or bad key, missing scope, limits. */
export const gatewayErrors = { 400: errorBody, 401: errorBody, 403: errorBody, 429: errorBody };

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

const filterableKeys = z
  .record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'metadata keys are 1-64 characters of A-Z, a-z, 0-9, "_", "." and "-"'), z.enum(FILTERABLE_TYPES))
  .refine((value) => Object.keys(value).length <= 64, 'at most 64 filterable keys')
  .describe('metadata keys filters may name, with their value type (each gets a payload index); unset: any key a document has carried');

const relevanceFloor = z.number().min(0).max(1).describe("evidence scoring below it is not an answer: 'not found' instead; unset: the deployment's default");

export const collectionSummary = z.object({
  name: z.string(),
  liveGeneration: z.number().int().describe('the generation queries read (Postgres records it; the swap moves it)'),
  embeddingModel: z.string(),
  chunking,
  relevanceFloor: relevanceFloor.nullable(),
  filterableKeys: filterableKeys.nullable(),
  metadataKeys: z.array(z.string()).describe("every metadata key the collection's documents have carried"),
  documents: z.number().int().describe('documents with a searchable (active) version'),
  chunks: z.number().int().describe('chunks of those versions in the live generation'),
  createdAt: z.string(),
});

export const collectionView = collectionSummary.extend({
  generations: z.array(generationView),
  evalQuestions: z.number().int().describe('labeled questions the re-index gate measures recall with'),
});

export const newCollectionBody = z
  .object({
    name: collectionName,
    embeddingModel: z.string().min(1).max(200).optional().describe("unset: the deployment's embedding model"),
    chunkSizeTokens: z.number().int().min(16).max(8192).optional(),
    chunkOverlapTokens: z.number().int().min(0).max(4096).optional(),
    filterableKeys: filterableKeys.optional(),
    relevanceFloor: relevanceFloor.optional(),
  })
  .strict();

export const collectionPatchBody = z
  .object({
    relevanceFloor: relevanceFloor.nullable().optional().describe('null: back to the default'),
    filterableKeys: filterableKeys.optional().describe('added to the declared keys (a declared key stays declared)'),
  })
  .strict();

export const collectionDeletion = z.object({
  collection: z.string(),
  workflowId: z.string().describe('the deletion run: find it in the Temporal UI'),
  deletedAt: z.string(),
  status: z.enum(['running', 'completed', 'failed']),
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
  relevantDocumentIds: z.array(documentId).max(100).describe('the documents that answer it; empty: the collection cannot answer it, and the right answer is a refusal'),
});

export const evalSetBody = z.object({ questions: z.array(labeledQuestion).max(1000) }).strict();

// --- the gateway: tenants, keys, audit --------------------------------------------------------

export const tenantSettingsView = tenantSettingsSchema;

/** A change to some settings: each section optional, each field in it optional. */
export const settingsChange = z
  .object({
    budgets: tenantSettingsSchema.shape.budgets.unwrap().partial().strict().optional(),
    rateLimit: tenantSettingsSchema.shape.rateLimit.unwrap().partial().strict().optional(),
    guardrails: tenantSettingsSchema.shape.guardrails
      .unwrap()
      .extend({ pii: tenantSettingsSchema.shape.guardrails.unwrap().shape.pii.unwrap().partial().strict().optional() })
      .partial()
      .strict()
      .optional(),
    cache: tenantSettingsSchema.shape.cache.unwrap().partial().strict().optional(),
    models: tenantSettingsSchema.shape.models.unwrap().partial().strict().optional(),
  })
  .strict();

export const tenantView = z.object({ id: z.string(), name: z.string(), settings: tenantSettingsView, createdAt: z.string(), updatedAt: z.string() });

export const createTenantBody = z.object({ id: tenantIdSchema, name: z.string().trim().min(1).max(200), settings: settingsChange.optional() }).strict();

export const updateTenantBody = z.object({ name: z.string().trim().min(1).max(200).optional(), settings: settingsChange.optional() }).strict();

export const keyView = z.object({
  id: z.string(),
  tenantId: z.string(),
  name: z.string(),
  prefix: z.string().describe('the first characters of the key, to recognise it'),
  scopes: z.array(z.enum(SCOPES)),
  rateLimitPerMinute: z.number().int().nullable(),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
});

export const issueKeyBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    scopes: z.array(z.enum(SCOPES)).min(1).max(SCOPES.length),
    rateLimitPerMinute: z.number().int().min(1).max(1_000_000).nullable().optional().describe("this key's own requests per minute (operators only)"),
  })
  .strict();

export const issuedKey = keyView.extend({ key: z.string().describe('the key itself: shown this once, only its hash is stored') });

export const tenantIdParam = z.object({ tenantId: tenantIdSchema });

export const auditEntryView = z.object({
  id: z.number().int(),
  at: z.string(),
  tenantId: z.string(),
  actor: z.string().nullable().describe('the API key id that acted'),
  requestId: z.string().nullable(),
  category: z.enum(['admin', 'guardrail']),
  action: z.string(),
  target: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
});
