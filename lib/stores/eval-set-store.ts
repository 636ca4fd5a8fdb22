import type { SqlDatabase } from './sql';

/** A question with the documents that answer it (document ids survive re-chunking; chunk ids do not). */
export interface LabeledQuestion {
  question: string;
  /** Empty: the collection cannot answer the question (the evaluation expects a refusal). */
  relevantDocumentIds: string[];
}

/** Each collection's labeled question set, replaced as a whole. */
export class EvalSetStore {
  constructor(private readonly db: SqlDatabase) {}

  async replace(tenantId: string, collection: string, questions: LabeledQuestion[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query('delete from eval_questions where tenant_id = $1 and collection = $2', [tenantId, collection]);
      for (const [position, q] of questions.entries()) {
        await tx.query(
          'insert into eval_questions (tenant_id, collection, position, question, relevant_document_ids) values ($1, $2, $3, $4, $5)',
          [tenantId, collection, position, q.question, JSON.stringify(q.relevantDocumentIds)],
        );
      }
    });
  }

  async get(tenantId: string, collection: string): Promise<LabeledQuestion[]> {
    const rows = await this.db.query<{ question: string; relevant_document_ids: string[] }>(
      'select question, relevant_document_ids from eval_questions where tenant_id = $1 and collection = $2 order by position',
      [tenantId, collection],
    );
    return rows.map((r) => ({ question: r.question, relevantDocumentIds: r.relevant_document_ids }));
  }
}
