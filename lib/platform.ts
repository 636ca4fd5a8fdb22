import { join } from 'node:path';
import type { Config } from './config';
import type { Embedder } from './models/embedder';
import { LocalOnnxEmbedder } from './models/local-onnx-embedder';
import { OpenAiEmbedder } from './models/openai-embedder';
import { BlobStore } from './stores/blob-store';
import { EmbeddedVectorIndex } from './stores/embedded-index';
import { MetadataStore, migrate } from './stores/metadata-store';
import { QdrantVectorIndex } from './stores/qdrant-index';
import { openEmbeddedPostgres, openPostgres, type SqlDatabase } from './stores/sql';
import type { VectorIndex } from './stores/vector-index';

/** The stores and models a process works with, opened from configuration in one place. */
export interface Platform {
  config: Config;
  db: SqlDatabase;
  metadata: MetadataStore;
  blobs: BlobStore;
  index: VectorIndex;
  embedder: Embedder;
  close(): Promise<void>;
}

export async function createEmbedder(config: Config): Promise<Embedder> {
  if (config.EMBEDDING_PROVIDER === 'openai') {
    return new OpenAiEmbedder({
      baseUrl: config.OPENAI_BASE_URL,
      apiKey: config.OPENAI_API_KEY as string,
      model: config.OPENAI_EMBEDDING_MODEL,
      dimensions: config.OPENAI_EMBEDDING_DIMENSIONS,
    });
  }
  return LocalOnnxEmbedder.load(config.localEmbeddingModelDir, { threads: config.EMBEDDING_THREADS });
}

export async function openPlatform(config: Config): Promise<Platform> {
  const db = config.DATABASE_URL ? await openPostgres(config.DATABASE_URL) : await openEmbeddedPostgres(join(config.DATA_DIR, 'db'));
  try {
    await migrate(db);
    const index: VectorIndex =
      config.VECTOR_STORE === 'qdrant'
        ? new QdrantVectorIndex({ url: config.QDRANT_URL as string, apiKey: config.QDRANT_API_KEY })
        : await EmbeddedVectorIndex.open(db);
    const embedder = await createEmbedder(config);
    return {
      config,
      db,
      metadata: new MetadataStore(db),
      blobs: new BlobStore(join(config.DATA_DIR, 'blobs')),
      index,
      embedder,
      async close() {
        await embedder.close();
        await index.close();
        await db.close();
      },
    };
  } catch (error) {
    await db.close();
    throw error;
  }
}
