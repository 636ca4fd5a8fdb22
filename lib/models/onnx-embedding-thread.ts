/**
 * Worker-thread side of LocalOnnxEmbedder. onnxruntime-node's `run` blocks the calling thread for
 * the whole inference (measured: no timer tick during a one-second batch), which would stall a
 * Temporal worker's event loop: heartbeats, other activities, workflow tasks. Here it blocks only
 * this thread.
 */
import { basename, dirname, join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { AutoTokenizer, env } from '@huggingface/transformers';
import * as ort from 'onnxruntime-node';

export interface EmbeddingThreadOptions {
  modelDir: string;
  threads: number;
  maxInputTokens: number;
}

export type EmbeddingRequest = { id: number; texts: string[] };
export type EmbeddingResponse = { id: number; vectors: Float32Array; dimensions: number } | { id: number; error: string };

async function start({ modelDir, threads, maxInputTokens }: EmbeddingThreadOptions): Promise<void> {
  env.allowRemoteModels = false;
  env.localModelPath = dirname(modelDir);
  const tokenizer = await AutoTokenizer.from_pretrained(basename(modelDir));
  const session = await ort.InferenceSession.create(join(modelDir, 'onnx/model_quantized.onnx'), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    // No spin-waiting between parallel sections: parsing and indexing share these two cores, and
    // spinning threads take time from them (measured: 1.70x instead of 1.18x overlap efficiency
    // with a parser running beside inference, for about 1% when the model runs alone).
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });

  const embed = async (texts: string[]): Promise<{ vectors: Float32Array; dimensions: number }> => {
    const encoded = tokenizer(texts, { padding: true, truncation: true, max_length: maxInputTokens }) as unknown as Record<string, { data: BigInt64Array; dims: number[] }>;
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of session.inputNames) {
      const tensor = encoded[name];
      if (!tensor) throw new Error(`tokenizer produced no ${name} for the model`);
      feeds[name] = new ort.Tensor('int64', tensor.data, tensor.dims);
    }
    const hidden = (await session.run(feeds)).last_hidden_state;
    const mask = encoded.attention_mask;
    if (!hidden || !mask) throw new Error('model output lacks last_hidden_state');
    return meanPoolAndNormalize(hidden.data as Float32Array, mask.data, hidden.dims as number[]);
  };

  parentPort!.on('message', (request: EmbeddingRequest) => {
    embed(request.texts).then(
      ({ vectors, dimensions }) => parentPort!.postMessage({ id: request.id, vectors, dimensions } satisfies EmbeddingResponse, [vectors.buffer as ArrayBuffer]),
      (error: Error) => parentPort!.postMessage({ id: request.id, error: error.message } satisfies EmbeddingResponse),
    );
  });
  parentPort!.postMessage('ready');
}

/** Sentence-transformers pooling for this model: mean over real tokens, then L2 normalisation. */
function meanPoolAndNormalize(hidden: Float32Array, mask: BigInt64Array, dims: number[]): { vectors: Float32Array; dimensions: number } {
  const [batch = 0, sequence = 0, width = 0] = dims;
  const vectors = new Float32Array(batch * width);
  const sum = new Float64Array(width);
  for (let b = 0; b < batch; b++) {
    sum.fill(0);
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
    for (let d = 0; d < width; d++) vectors[b * width + d] = (sum[d] as number) / norm;
  }
  return { vectors, dimensions: width };
}

if (parentPort && workerData?.modelDir) {
  start(workerData as EmbeddingThreadOptions).catch((error: Error) => {
    parentPort!.postMessage({ id: -1, error: error.message } satisfies EmbeddingResponse);
  });
}
