/** Turns text into dense vectors. Implementations: local ONNX model, OpenAI-compatible HTTP. */
export interface Embedder {
  /** Stored with each collection: vectors from different models never mix in one index. */
  readonly modelId: string;
  readonly dimensions: number;
  /** Longest input the model reads; chunks are sized below it. */
  readonly maxInputTokens: number;
  /** Tokens as this model counts them, so chunk sizes in tokens mean what they say. */
  countTokens(text: string): number;
  embed(texts: string[], signal?: AbortSignal): Promise<number[][]>;
  close(): Promise<void>;
}
