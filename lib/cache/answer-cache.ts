import type { Embedder } from '../models/embedder';
import type { Metrics } from '../telemetry/metrics';
import { textHash, type CacheStore, type CachedQuestion } from './cache-store';
import { withinDeadline } from './deadline';
import { normaliseQuestion, sameQuestion } from './question-match';

export type AnswerCacheMode = 'semantic' | 'exact' | 'off';

/**
 * Everything an answer depends on but the question. The content version changes with every
 * activation, deletion, swap and rollback in the collection, so an answer the documents no
 * longer support is never found; the tenant is part of it, so tenants never share an entry.
 */
export interface AnswerScope {
  tenantId: string;
  collection: string;
  contentVersion: string;
  filters: Record<string, unknown>;
  topK: number;
  mode: 'answer' | 'retrieve';
  /** The collection's floor, the tenant's guardrails, the prompt and model configuration. */
  settings: unknown;
}

export type CacheHit =
  | { hit: 'exact'; ageSeconds: number; answer: unknown }
  | { hit: 'semantic'; ageSeconds: number; answer: unknown; matchedQuestion: string; similarity: number };

/** A miss carries what the store needs to remember the answer afterwards. */
export interface CacheMiss {
  hit: 'miss' | 'off';
  remember?: { scope: string; questionHash: string; question: string; vector: Float32Array | null };
}

export interface AnswerCacheOptions {
  ttlSeconds: number;
  semanticThreshold: number;
  semanticCandidates: number;
  deadlineMs: number;
  metrics?: Metrics;
  onError?: (error: unknown) => void;
}

/** The exact and the semantic answer cache over one store. Any store failure is a miss. */
export class AnswerCache {
  constructor(
    private readonly store: CacheStore,
    /** Embeds questions for the semantic lookup (through the embedding cache). */
    private readonly embedder: Embedder,
    private readonly options: AnswerCacheOptions,
  ) {}

  async lookup(scope: AnswerScope, question: string, policy: { mode: AnswerCacheMode; threshold?: number | null }): Promise<CacheHit | CacheMiss> {
    if (policy.mode === 'off') return this.count({ hit: 'off' });
    const scopeKey = scopeHash(scope);
    const normalised = normaliseQuestion(question);
    const questionHash = textHash(normalised);
    const remember = { scope: scopeKey, questionHash, question, vector: null as Float32Array | null };
    try {
      const exact = await withinDeadline(this.store.getAnswer(scopeKey, questionHash), this.options.deadlineMs);
      if (exact) return this.count({ hit: 'exact', ageSeconds: ageOf(exact.createdAt), answer: exact.answer });
      if (policy.mode !== 'semantic') return this.count({ hit: 'miss', remember });
      // The question as the run will embed it: on a miss, the run's own embedding is then an embedding-cache hit.
      const [vector] = await this.embedder.embed([question]);
      remember.vector = Float32Array.from(vector as number[]);
      const recent = await withinDeadline(this.store.recentQuestions(scopeKey, this.options.semanticCandidates), this.options.deadlineMs);
      const match = closest(remember.vector, recent, question, policy.threshold ?? this.options.semanticThreshold);
      if (!match) return this.count({ hit: 'miss', remember });
      const entry = await withinDeadline(this.store.getAnswer(scopeKey, match.entry.questionHash), this.options.deadlineMs);
      if (!entry) return this.count({ hit: 'miss', remember });
      return this.count({ hit: 'semantic', ageSeconds: ageOf(entry.createdAt), answer: entry.answer, matchedQuestion: entry.question, similarity: round(match.similarity) });
    } catch (error) {
      this.failed(error);
      return { hit: 'miss', remember };
    }
  }

  /** Stores an answer under the key a miss returned; a failure is only counted. */
  async remember(miss: CacheMiss, answer: unknown): Promise<void> {
    if (!miss.remember) return;
    const { scope, ...entry } = miss.remember;
    try {
      await withinDeadline(this.store.putAnswer(scope, { ...entry, answer, createdAt: Date.now() }, this.options.ttlSeconds), this.options.deadlineMs);
    } catch (error) {
      this.failed(error);
    }
  }

  private count<T extends CacheHit | CacheMiss>(result: T): T {
    this.options.metrics?.cacheLookups.inc({ cache: 'answer', outcome: result.hit });
    return result;
  }

  private failed(error: unknown): void {
    this.options.metrics?.cacheLookups.inc({ cache: 'answer', outcome: 'error' });
    this.options.onError?.(error);
  }
}

/** The closest earlier question at or above the threshold that asks the same thing. */
function closest(vector: Float32Array, recent: CachedQuestion[], question: string, threshold: number): { entry: CachedQuestion; similarity: number } | null {
  let best: { entry: CachedQuestion; similarity: number } | null = null;
  for (const entry of recent) {
    if (!entry.vector || entry.vector.length !== vector.length) continue;
    const similarity = cosine(vector, entry.vector);
    if (similarity >= threshold && (!best || similarity > best.similarity) && sameQuestion(question, entry.question)) best = { entry, similarity };
  }
  return best;
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    aa += x * x;
    bb += y * y;
  }
  return aa === 0 || bb === 0 ? 0 : dot / Math.sqrt(aa * bb);
}

/** Keys are hashes of a canonical JSON (object keys sorted), so equal scopes meet whatever their key order. */
export function scopeHash(scope: AnswerScope): string {
  return textHash(canonical(scope));
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

const ageOf = (createdAt: number) => Math.max(0, Math.round((Date.now() - createdAt) / 1000));
const round = (n: number) => Math.round(n * 1000) / 1000;
