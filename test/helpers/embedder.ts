import { loadConfig } from '../../lib/config';
import { LocalOnnxEmbedder } from '../../lib/models/local-onnx-embedder';

let shared: Promise<LocalOnnxEmbedder> | undefined;

/** The real local model (set up by scripts/setup.sh), loaded once per test file. */
export function localEmbedder(): Promise<LocalOnnxEmbedder> {
  shared ??= LocalOnnxEmbedder.load(loadConfig().localEmbeddingModelDir, { threads: 2 });
  return shared;
}
