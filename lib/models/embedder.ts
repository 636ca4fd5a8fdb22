/** How a model counts tokens, as data: a worker thread rebuilds the counter from it (lib/ingest/cpu-tasks.ts). */
export type TokenizerSpec = { kind: 'huggingface'; modelDir: string } | { kind: 'tiktoken'; encoding: 'cl100k_base' };

/** Turns text into dense vectors. Implementations: local ONNX model, OpenAI-compatible HTTP. */
export interface Embedder {
  /** The same counting as countTokens, for chunking off the main thread. */
  readonly tokenizer: TokenizerSpec;
  /** Stored with each collection: vectors from different models never mix in one index. */
  readonly modelId: string;
  /** Who runs the model, as the GenAI conventions name it (`openai`) or the runtime (`onnxruntime`). */
  readonly provider: string;
  readonly dimensions: number;
  /** Longest input the model reads; chunks are sized below it. */
  readonly maxInputTokens: number;
  /** Tokens as this model counts them, so chunk sizes in tokens mean what they say. */
  countTokens(text: string): number;
  embed(texts: string[], signal?: AbortSignal): Promise<number[][]>;
  close(): Promise<void>;
}
