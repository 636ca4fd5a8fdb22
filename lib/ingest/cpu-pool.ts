import { join } from 'node:path';
import Piscina from 'piscina';
import type { TokenizerSpec } from '../models/embedder';
import type { Chunk } from './chunk';
import type { TaskResult } from './cpu-tasks';
import { DocumentRejected, type ParsedDocument } from './parse';
import type { ChunkingSettings, MediaType } from './types';

/**
 * Worker threads for parsing and chunking (lib/ingest/cpu-tasks.ts): a 45 MB text or a 2,000-page
 * PDF keeps a thread busy, never the event loop, so heartbeats, workflow tasks and, in the
 * all-in-one process, the API stay responsive. A cancelled activity aborts its task.
 */
export class CpuPool {
  private readonly pool: Piscina;

  constructor(options: { threads: number }) {
    this.pool = new Piscina({ filename: join(__dirname, 'cpu-thread.cjs'), minThreads: 0, maxThreads: options.threads, idleTimeout: 60_000 });
  }

  async parse(bytes: Uint8Array, mediaType: MediaType, signal?: AbortSignal): Promise<ParsedDocument> {
    return unwrap(await this.pool.run({ bytes, mediaType }, { name: 'parse', signal }));
  }

  async chunk(parsed: ParsedDocument, settings: ChunkingSettings, tokenizer: TokenizerSpec, structured: boolean, signal?: AbortSignal): Promise<Chunk[]> {
    return unwrap(await this.pool.run({ parsed, settings, tokenizer, structured }, { name: 'chunk', signal }));
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}

function unwrap<T>(result: TaskResult<T>): T {
  if (result.ok) return result.value;
  throw new DocumentRejected(result.code as DocumentRejected['code'], result.message);
}
