import type { SqlDatabase } from '../stores/sql';
import { bytesVector, vectorBytes, type CacheStore, type CachedAnswer, type CachedAnswerEntry, type CachedQuestion } from './cache-store';

export interface SqlCacheLimits {
  maxAnswers: number;
  maxVectors: number;
  vectorTtlSeconds: number;
  /** Writes between two sweeps of expired and surplus rows: the bound holds within that many (200). */
  sweepEvery?: number;
}

/** The caches in the embedded (metadata) database: one API instance, or several sharing Postgres. */
export class SqlCacheStore implements CacheStore {
  private answerWrites = 0;
  private vectorWrites = 0;

  constructor(
    private readonly db: SqlDatabase,
    private readonly limits: SqlCacheLimits,
  ) {}

  private get sweepEvery(): number {
    return this.limits.sweepEvery ?? 200;
  }

  async getAnswer(scope: string, questionHash: string): Promise<CachedAnswer | null> {
    const [row] = await this.db.query<Omit<AnswerRow, 'vector'> & { answer: unknown }>(
      'select question_hash, question, answer, created_at from answer_cache where scope = $1 and question_hash = $2 and expires_at > now()',
      [scope, questionHash],
    );
    return row ? { questionHash: row.question_hash, question: row.question, answer: row.answer, createdAt: new Date(row.created_at).getTime() } : null;
  }

  async recentQuestions(scope: string, limit: number): Promise<CachedQuestion[]> {
    const rows = await this.db.query<AnswerRow>(
      'select question_hash, question, vector, created_at from answer_cache where scope = $1 and expires_at > now() and vector is not null order by created_at desc limit $2',
      [scope, limit],
    );
    return rows.map(questionOf);
  }

  async putAnswer(scope: string, entry: CachedAnswerEntry, ttlSeconds: number): Promise<void> {
    await this.db.query(
      `insert into answer_cache (scope, question_hash, question, vector, answer, created_at, expires_at)
       values ($1, $2, $3, $4, $5, to_timestamp($6 / 1000.0), now() + make_interval(secs => $7))
       on conflict (scope, question_hash) do update set question = excluded.question, vector = excluded.vector, answer = excluded.answer,
         created_at = excluded.created_at, expires_at = excluded.expires_at`,
      [scope, entry.questionHash, entry.question, entry.vector ? vectorBytes(entry.vector) : null, JSON.stringify(entry.answer), entry.createdAt, ttlSeconds],
    );
    if (++this.answerWrites % this.sweepEvery === 0) {
      await this.db.query('delete from answer_cache where expires_at <= now()');
      await this.keepNewest('answer_cache', this.limits.maxAnswers);
    }
  }

  async getVectors(model: string, textHashes: string[]): Promise<Map<string, Float32Array>> {
    if (textHashes.length === 0) return new Map();
    const rows = await this.db.query<{ text_hash: string; vector: Uint8Array }>(
      `select text_hash, vector from embedding_cache where model = $1 and text_hash = any($2::text[]) and created_at > now() - make_interval(secs => $3)`,
      [model, textHashes, this.limits.vectorTtlSeconds],
    );
    return new Map(rows.map((row) => [row.text_hash, bytesVector(row.vector)]));
  }

  async putVectors(model: string, vectors: Map<string, Float32Array>): Promise<void> {
    if (vectors.size === 0) return;
    const hashes = [...vectors.keys()];
    await this.db.query(
      `insert into embedding_cache (model, text_hash, vector)
       select $1, h, v from unnest($2::text[], $3::bytea[]) as t(h, v)
       on conflict (model, text_hash) do update set vector = excluded.vector, created_at = now()`,
      [model, hashes, hashes.map((hash) => vectorBytes(vectors.get(hash) as Float32Array))],
    );
    this.vectorWrites += vectors.size;
    if (this.vectorWrites >= this.sweepEvery * 10) {
      this.vectorWrites = 0;
      await this.db.query('delete from embedding_cache where created_at <= now() - make_interval(secs => $1)', [this.limits.vectorTtlSeconds]);
      await this.keepNewest('embedding_cache', this.limits.maxVectors);
    }
  }

  /** Drops the oldest rows beyond the bound. */
  private async keepNewest(table: 'answer_cache' | 'embedding_cache', max: number): Promise<void> {
    const [cutoff] = await this.db.query<{ created_at: Date | string }>(`select created_at from ${table} order by created_at desc offset $1 limit 1`, [max]);
    if (cutoff) await this.db.query(`delete from ${table} where created_at <= $1`, [cutoff.created_at]);
  }
}

interface AnswerRow {
  question_hash: string;
  question: string;
  vector: Uint8Array | null;
  created_at: Date | string;
}

const questionOf = (row: AnswerRow): CachedQuestion => ({
  questionHash: row.question_hash,
  question: row.question,
  vector: row.vector ? bytesVector(row.vector) : null,
  createdAt: new Date(row.created_at).getTime(),
});
