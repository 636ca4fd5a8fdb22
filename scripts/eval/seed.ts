import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { toPoint } from '../../activities/indexing';
import { chunkDocument, defaultChunking, isStructured } from '../../lib/ingest/chunk';
import { parseDocument } from '../../lib/ingest/parse';
import type { MediaType } from '../../lib/ingest/types';
import type { Embedder } from '../../lib/models/embedder';
import type { Platform } from '../../lib/platform';

export interface SeedDocument {
  documentId: string;
  bytes: Uint8Array;
  mediaType: MediaType;
  title: string;
  metadata?: Record<string, unknown>;
}

/**
 * Writes documents into a collection as an ingestion run would leave them (the platform's own
 * parser, chunker, point builder and version activation), embedding through `vectors` so that a
 * corpus embedded once is not embedded again on the next run. Only the Temporal run is skipped:
 * the eval and benchmarks measure answers and queries, not ingestion.
 */
export async function seedCollection(platform: Platform, tenantId: string, name: string, documents: SeedDocument[], vectors: EmbeddingCache): Promise<{ chunks: Map<string, { documentId: string; text: string }> }> {
  const { metadata, generations, index, embedder, config } = platform;
  const collection = await metadata.ensureCollection({
    tenantId,
    name,
    embeddingModel: embedder.modelId,
    dimensions: embedder.dimensions,
    ...defaultChunking(config, embedder.maxInputTokens),
    generation: 1,
  });
  const [target] = await generations.writeTargets(tenantId, name);
  if (!target) throw new Error(`collection ${name} has no live generation`);
  await index.ensureSpace(target.indexName, { dimensions: embedder.dimensions });
  const chunkTexts = new Map<string, { documentId: string; text: string }>();
  for (const document of documents) {
    const sha256 = createHash('sha256').update(document.bytes).digest('hex');
    const upload = await metadata.registerUpload({
      tenantId,
      collection,
      documentId: document.documentId,
      sha256,
      sizeBytes: document.bytes.byteLength,
      mediaType: document.mediaType,
      filename: document.documentId,
      title: document.title,
      metadata: document.metadata ?? {},
      workflowIdFor: (version) => `seed/${tenantId}/${document.documentId}/v${version}`,
    });
    const ref = { tenantId, collection: name, documentId: document.documentId, version: upload.version };
    const parsed = await parseDocument(document.bytes, document.mediaType);
    const chunks = await chunkDocument(parsed, target.chunking, (text) => embedder.countTokens(text), isStructured(document.mediaType));
    const dense = await vectors.embed(embedder, chunks.map((chunk) => chunk.text));
    const source = { ...ref, title: document.title, metadata: document.metadata ?? {} };
    const points = chunks.map((chunk, i) => toPoint(target, source, chunk, dense[i] as number[]));
    for (let i = 0; i < points.length; i += 256) await index.upsert(target.indexName, points.slice(i, i + 256));
    for (const point of points) chunkTexts.set(point.id, { documentId: document.documentId, text: point.payload.text });
    await generations.recordIndexed({ ...ref, generation: target.generation, chunkCount: chunks.length });
    await metadata.setStage(ref, 'ready', { pageCount: parsed.pageCount ?? undefined, chunkCount: chunks.length });
    const activation = await metadata.activateVersion(ref);
    if (activation?.activeVersion !== upload.version) throw new Error(`${document.documentId} v${upload.version} did not become active: ${JSON.stringify(activation)}`);
  }
  return { chunks: chunkTexts };
}

/**
 * Vectors by model and text hash, kept in one append-only file per model outside the repo. Only
 * a convenience for repeated eval and benchmark runs; the platform itself does not read it.
 */
export class EmbeddingCache {
  private readonly loaded = new Map<string, Map<string, Float32Array>>();

  constructor(private readonly dir: string) {}

  async embed(embedder: Embedder, texts: string[]): Promise<number[][]> {
    const file = `${this.dir}/${embedder.modelId}.bin`;
    const known = this.load(file, embedder.dimensions);
    const keys = texts.map((text) => createHash('sha1').update(text).digest('hex'));
    const missing = [...new Set(texts.filter((_, i) => !known.has(keys[i] as string)))];
    for (let i = 0; i < missing.length; i += 64) {
      const batch = missing.slice(i, i + 64);
      const embedded = await embedder.embed(batch);
      const records: Buffer[] = [];
      batch.forEach((text, j) => {
        const key = createHash('sha1').update(text).digest('hex');
        const vector = Float32Array.from(embedded[j] as number[]);
        known.set(key, vector);
        records.push(Buffer.from(key, 'hex'), Buffer.from(vector.buffer));
      });
      appendFileSync(file, Buffer.concat(records));
    }
    return keys.map((key) => Array.from(known.get(key) as Float32Array));
  }

  private load(file: string, dimensions: number): Map<string, Float32Array> {
    let known = this.loaded.get(file);
    if (known) return known;
    known = new Map();
    mkdirSync(dirname(file), { recursive: true });
    if (existsSync(file)) {
      const bytes = readFileSync(file);
      const size = 20 + dimensions * 4;
      for (let offset = 0; offset + size <= bytes.length; offset += size) {
        const vector = new Float32Array(bytes.buffer.slice(bytes.byteOffset + offset + 20, bytes.byteOffset + offset + size));
        known.set(bytes.subarray(offset, offset + 20).toString('hex'), vector);
      }
    }
    this.loaded.set(file, known);
    return known;
  }
}
