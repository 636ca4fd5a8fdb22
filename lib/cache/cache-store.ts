import { createHash } from 'node:crypto';

/** A cached answer as stored: the question it answered, its vector for paraphrases, the answer. */
export interface CachedAnswerEntry {
  questionHash: string;
  question: string;
  vector: Float32Array | null;
  answer: unknown;
  createdAt: number;
}

/** A cached answer as read: the vector is only read with the scope's recent questions. */
export type CachedAnswer = Omit<CachedAnswerEntry, 'vector'>;

/** A recent question of a scope, for the semantic lookup. */
export type CachedQuestion = Omit<CachedAnswerEntry, 'answer'>;

/**
 * Where the caches live: Redis when several API instances share them, the embedded (metadata)
 * database otherwise. Both bound their size and age; callers treat any error as a miss.
 */
export interface CacheStore {
  getAnswer(scope: string, questionHash: string): Promise<CachedAnswer | null>;
  /** The scope's most recent questions with vectors, newest first. */
  recentQuestions(scope: string, limit: number): Promise<CachedQuestion[]>;
  putAnswer(scope: string, entry: CachedAnswerEntry, ttlSeconds: number): Promise<void>;
  /** Vectors by text hash; a missing one is absent from the map. */
  getVectors(model: string, textHashes: string[]): Promise<Map<string, Float32Array>>;
  putVectors(model: string, vectors: Map<string, Float32Array>): Promise<void>;
}

/** Float32 little-endian bytes: 4 bytes a dimension, in both stores. */
export function vectorBytes(vector: ArrayLike<number>): Buffer {
  const floats = Float32Array.from(vector);
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength);
}

/** The caches' keys for texts (a question, a chunk): sha256, so a key says nothing of the text. */
export const textHash = (text: string): string => createHash('sha256').update(text).digest('base64url');

export function bytesVector(bytes: Uint8Array): Float32Array {
  // A copy: the driver's buffer may not be aligned for a Float32Array view.
  const copy = new Uint8Array(bytes);
  return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
}
