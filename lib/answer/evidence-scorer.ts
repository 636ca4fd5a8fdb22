import { createHash } from 'node:crypto';
import type { Embedder } from '../models/embedder';
import { candidateSentences, chunkRelevance, scoreSentences, type EvidenceChunk, type ScoredSentence } from './evidence';

/** Sentence vectors kept per process: a chunk asked about again is not embedded again. */
const CACHE_ENTRIES = 50_000;
/** Sentences per embedding call, shortest first, so little padding is computed. */
const BATCH = 32;

export interface EvidenceScores {
  sentences: ScoredSentence[];
  /** Per candidate chunk: its best sentence's score. */
  relevance: number[];
}

/**
 * Scores every sentence of the candidates with the local embedding model and the question's words
 * (lib/answer/evidence.ts). Sentences are embedded in length-sorted batches and remembered by
 * their text's hash, so the cost is one pass over what has not been seen.
 */
export class EvidenceScorer {
  private readonly cache = new Map<string, Float32Array>();

  constructor(private readonly embedder: Embedder) {}

  async score(question: string, chunks: EvidenceChunk[], signal?: AbortSignal): Promise<EvidenceScores> {
    const sentences = candidateSentences(chunks);
    // A sentence is also read with the one before it (same chunk): "It defaults to 100." needs its subject.
    const windows = sentences.map((s, i) => {
      const previous = sentences[i - 1];
      return EVIDENCE_CONTEXT.window && previous && previous.chunk === s.chunk ? `${previous.text} ${s.text}` : undefined;
    });
    const texts = [question, ...sentences.map((s) => embeddingText(s.text, chunks[s.chunk] as EvidenceChunk)), ...windows.filter((w): w is string => w !== undefined)];
    const [questionVector, ...rest] = await this.vectors(texts, signal);
    let next = sentences.length;
    const dense = sentences.map((_, i) => {
      const alone = cosine(questionVector as Float32Array, rest[i] as Float32Array);
      return windows[i] === undefined ? alone : Math.max(alone, cosine(questionVector as Float32Array, rest[next++] as Float32Array));
    });
    const scored = scoreSentences(question, sentences, chunks, dense);
    return { sentences: scored, relevance: chunkRelevance(scored, chunks.length) };
  }

  private async vectors(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const keyOf = (text: string) => createHash('sha1').update(text).digest('base64');
    const found = new Map<string, Float32Array>();
    for (const text of texts) {
      const cached = this.cache.get(keyOf(text));
      if (cached) found.set(text, cached);
    }
    const missing = [...new Set(texts.filter((text) => !found.has(text)))].sort((a, b) => a.length - b.length);
    for (let i = 0; i < missing.length; i += BATCH) {
      const batch = missing.slice(i, i + BATCH);
      const embedded = await this.embedder.embed(batch, signal);
      batch.forEach((text, j) => {
        const vector = Float32Array.from(embedded[j] ?? []);
        found.set(text, vector);
        this.remember(keyOf(text), vector);
      });
    }
    return texts.map((text) => found.get(text) as Float32Array);
  }

  private remember(key: string, vector: Float32Array): void {
    if (this.cache.size >= CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, vector);
  }
}

/** A sentence is embedded under its section's heading, as a reader meets it. */
export function embeddingText(sentence: string, chunk: EvidenceChunk): string {
  const heading = chunk.headings.at(-1)?.replace(/^#+\s*/, '');
  return EVIDENCE_CONTEXT.heading && heading && !sentence.includes(heading) ? `${heading}: ${sentence}` : sentence;
}

export const EVIDENCE_CONTEXT = { heading: false, window: true };

/** The model's vectors are normalised: the dot product is the cosine. */
function cosine(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}
