/**
 * The CPU-heavy steps of ingestion, run in worker threads (lib/ingest/cpu-pool.ts) so that a large
 * document never blocks the event loop that serves the API, heartbeats and workflow tasks. Inputs
 * and results are plain data; a rejected document comes back as its code, not as a thrown class.
 */
import { basename, dirname } from 'node:path';
import { AutoTokenizer, env, type PreTrainedTokenizer } from '@huggingface/transformers';
import { getEncoding } from 'js-tiktoken';
import type { TokenizerSpec } from '../models/embedder';
import { chunkDocument, type Chunk } from './chunk';
import { DocumentRejected, parseDocument, type ParsedDocument } from './parse';
import type { ChunkingSettings, MediaType } from './types';

export type TaskResult<T> = { ok: true; value: T } | { ok: false; code: string; message: string };

async function settle<T>(work: () => Promise<T>): Promise<TaskResult<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    if (error instanceof DocumentRejected) return { ok: false, code: error.code, message: error.message };
    throw error;
  }
}

export function parse(task: { bytes: Uint8Array; mediaType: MediaType }): Promise<TaskResult<ParsedDocument>> {
  return settle(() => parseDocument(task.bytes, task.mediaType));
}

export function chunk(task: { parsed: ParsedDocument; settings: ChunkingSettings; tokenizer: TokenizerSpec; structured: boolean }): Promise<TaskResult<Chunk[]>> {
  return settle(async () => {
    const count = await counterFor(task.tokenizer);
    return chunkDocument(task.parsed, task.settings, count, task.structured);
  });
}

const counters = new Map<string, Promise<(text: string) => number>>();

/** The token counter a spec names, built once per thread. */
function counterFor(spec: TokenizerSpec): Promise<(text: string) => number> {
  const key = JSON.stringify(spec);
  let counter = counters.get(key);
  if (!counter) {
    counter = (async () => {
      if (spec.kind === 'tiktoken') {
        const encoding = getEncoding(spec.encoding);
        return (text: string) => encoding.encode(text).length;
      }
      env.allowRemoteModels = false;
      env.localModelPath = dirname(spec.modelDir);
      const tokenizer: PreTrainedTokenizer = await AutoTokenizer.from_pretrained(basename(spec.modelDir));
      return (text: string) => tokenizer.encode(text, { add_special_tokens: false }).length;
    })();
    counters.set(key, counter);
  }
  return counter;
}
