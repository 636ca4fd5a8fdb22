import type { Redis } from 'ioredis';
import { bytesVector, vectorBytes, type CacheStore, type CachedAnswer, type CachedAnswerEntry, type CachedQuestion } from './cache-store';

export interface RedisCacheLimits {
  /** Questions a scope remembers for paraphrase lookups (a list, trimmed on every write). */
  questionsPerScope: number;
  vectorTtlSeconds: number;
}

/**
 * The caches in Redis, shared by every API instance: an answer is a string key with a TTL; a
 * scope's recent questions are a capped list beside it; vectors are binary strings with a TTL.
 * Size beyond the TTLs is bounded by Redis's own eviction (maxmemory with an LRU policy).
 */
export class RedisCacheStore implements CacheStore {
  constructor(
    private readonly redis: Redis,
    private readonly limits: RedisCacheLimits,
    private readonly prefix = 'rag:cache:',
  ) {}

  async getAnswer(scope: string, questionHash: string): Promise<CachedAnswer | null> {
    const raw = await this.redis.get(this.answerKey(scope, questionHash));
    return raw ? { questionHash, ...(JSON.parse(raw) as StoredAnswer) } : null;
  }

  async recentQuestions(scope: string, limit: number): Promise<CachedQuestion[]> {
    const raw = await this.redis.lrange(this.questionsKey(scope), 0, limit - 1);
    return raw.map((item) => {
      const stored = JSON.parse(item) as StoredQuestion;
      return { questionHash: stored.questionHash, question: stored.question, vector: bytesVector(Buffer.from(stored.vector, 'base64')), createdAt: stored.createdAt };
    });
  }

  async putAnswer(scope: string, entry: CachedAnswerEntry, ttlSeconds: number): Promise<void> {
    // The vector goes with the recent questions only: the answer key is read for its answer.
    const stored: StoredAnswer = { question: entry.question, answer: entry.answer, createdAt: entry.createdAt };
    const multi = this.redis.multi().set(this.answerKey(scope, entry.questionHash), JSON.stringify(stored), 'EX', ttlSeconds);
    if (entry.vector) {
      const question: StoredQuestion = { questionHash: entry.questionHash, question: entry.question, vector: vectorBytes(entry.vector).toString('base64'), createdAt: entry.createdAt };
      multi
        .lpush(this.questionsKey(scope), JSON.stringify(question))
        .ltrim(this.questionsKey(scope), 0, this.limits.questionsPerScope - 1)
        .expire(this.questionsKey(scope), ttlSeconds);
    }
    await multi.exec();
  }

  async getVectors(model: string, textHashes: string[]): Promise<Map<string, Float32Array>> {
    if (textHashes.length === 0) return new Map();
    const values = await this.redis.mgetBuffer(...textHashes.map((hash) => this.vectorKey(model, hash)));
    const found = new Map<string, Float32Array>();
    values.forEach((value, i) => value && found.set(textHashes[i] as string, bytesVector(value)));
    return found;
  }

  async putVectors(model: string, vectors: Map<string, Float32Array>): Promise<void> {
    if (vectors.size === 0) return;
    const multi = this.redis.multi();
    for (const [hash, vector] of vectors) multi.set(this.vectorKey(model, hash), vectorBytes(vector), 'EX', this.limits.vectorTtlSeconds);
    await multi.exec();
  }

  private answerKey(scope: string, questionHash: string): string {
    return `${this.prefix}answer:${scope}:${questionHash}`;
  }
  private questionsKey(scope: string): string {
    return `${this.prefix}questions:${scope}`;
  }
  private vectorKey(model: string, textHash: string): string {
    return `${this.prefix}vector:${model}:${textHash}`;
  }
}

interface StoredAnswer {
  question: string;
  answer: unknown;
  createdAt: number;
}

interface StoredQuestion {
  questionHash: string;
  question: string;
  vector: string;
  createdAt: number;
}
