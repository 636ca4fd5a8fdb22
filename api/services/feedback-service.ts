import { PlatformError } from '../../lib/errors';
import { collectionNotFound, type CollectionStore } from '../../lib/stores/collection-store';
import type { AnswerLog, Feedback, FeedbackGroup, RatedAnswer } from '../../lib/stores/answer-log';
import type { LabeledQuestion } from '../../lib/stores/eval-set-store';
import type { MetadataStore } from '../../lib/stores/metadata-store';
import type { Caller } from '../plugins/auth';
import type { AdminService } from './admin-service';
import { reportRange, reportTenant } from './report-scope';

export interface FeedbackBody {
  rating: Feedback['rating'];
  comment?: string;
  correction?: string;
  /** The passage that should have been cited: its document, and the chunk when known. */
  expected?: { documentId: string; chunkId?: string };
}

export interface FeedbackSummaryRequest {
  tenantId?: string;
  collection?: string;
  from?: string;
  to?: string;
  groupBy: FeedbackGroup;
}

/** How an exported question got its relevant documents. */
export type LabelSource = 'expected' | 'cited' | 'refused';

const answerNotFound = (answerId: string) => new PlatformError('answer_not_found', `no answer ${answerId} was served to this tenant`, 404);

/**
 * Feedback on served answers: only the tenant an answer was served to can read it or rate it
 * (another tenant's answer is "not found"), and ratings are summed per prompt version, variant,
 * collection and model, or turned into labeled questions for the collection's eval set.
 */
export class FeedbackService {
  constructor(
    private readonly answers: AnswerLog,
    private readonly documents: Pick<MetadataStore, 'getDocument'>,
    private readonly collections: Pick<CollectionStore, 'get'>,
    private readonly admin: Pick<AdminService, 'getTenant'>,
    private readonly now: () => number = Date.now,
  ) {}

  async answer(caller: Caller, answerId: string) {
    const found = await this.answers.get(caller.principal.tenantId, answerId);
    if (!found) throw answerNotFound(answerId);
    const { tenantId: _tenant, ...record } = found;
    return record;
  }

  async give(caller: Caller, answerId: string, body: FeedbackBody) {
    const { tenantId, keyId } = caller.principal;
    const answer = await this.answers.get(tenantId, answerId);
    if (!answer) throw answerNotFound(answerId);
    const expected = body.expected;
    if (expected) {
      const document = await this.documents.getDocument(tenantId, expected.documentId);
      if (!document || document.collection !== answer.collection) {
        throw new PlatformError('unknown_document', `collection ${answer.collection} has no document ${expected.documentId}`, 422, { collection: answer.collection, documentId: expected.documentId });
      }
    }
    const feedback: Feedback = {
      rating: body.rating,
      comment: body.comment ?? null,
      correction: body.correction ?? null,
      expectedChunkId: expected?.chunkId ?? null,
      expectedDocumentId: expected?.documentId ?? null,
    };
    const { replaced, at } = await this.answers.giveFeedback(tenantId, answerId, keyId, feedback);
    return { answerId, ...feedback, at, replaced };
  }

  /** Answers and ratings per group: admins see their tenant, operators any tenant or all of them. */
  async summary(caller: Caller, request: FeedbackSummaryRequest) {
    const tenantId = reportTenant(caller.principal, request.tenantId);
    if (tenantId !== null) await this.admin.getTenant(caller, tenantId);
    const { from, to } = reportRange(request, this.now());
    const summary = await this.answers.summarize({ tenantId, collection: request.collection, from, to, groupBy: request.groupBy });
    return { tenantId, collection: request.collection ?? null, from: from.toISOString(), to: to.toISOString(), groupBy: request.groupBy, ...summary };
  }

  /**
   * Rated answers as labeled questions, in the shape `PUT /v1/collections/{c}/eval-set` takes: the
   * document the asker said should have been cited, else (a good answer) the documents it cited;
   * a refusal rated up becomes an unanswerable question (no relevant document). Any other rating
   * that names no document is skipped: there is nothing to label the question with.
   */
  async evalCandidates(caller: Caller, collection: string, limit: number) {
    const { tenantId } = caller.principal;
    if (!(await this.collections.get(tenantId, collection))) throw collectionNotFound(collection);
    const rated = await this.answers.rated(tenantId, collection, limit);
    const questions: LabeledQuestion[] = [];
    const sources: { answerId: string; rating: Feedback['rating']; labeledBy: LabelSource }[] = [];
    const seen = new Set<string>();
    let skipped = 0;
    for (const answer of rated) {
      const label = labelOf(answer);
      // Newest first: an older rating of the same question is superseded.
      if (!label || seen.has(answer.question)) {
        skipped += 1;
        continue;
      }
      seen.add(answer.question);
      questions.push({ question: answer.question, relevantDocumentIds: label.documents });
      sources.push({ answerId: answer.answerId, rating: answer.feedback.rating, labeledBy: label.source });
    }
    return { collection, questions, sources, skipped };
  }
}

function labelOf(answer: RatedAnswer): { documents: string[]; source: LabelSource } | null {
  const { feedback } = answer;
  if (feedback.expectedDocumentId) return { documents: [feedback.expectedDocumentId], source: 'expected' };
  if (feedback.rating === 'up' && answer.found && answer.citations.length > 0) return { documents: [...new Set(answer.citations.map((c) => c.documentId))], source: 'cited' };
  if (feedback.rating === 'up' && !answer.found) return { documents: [], source: 'refused' };
  return null;
}
