/** Types that cross the answer workflow's boundary. Pure: safe in the workflow sandbox. */
import type { PromptRef } from '../prompts/prompt-ref';
import type { RetrieveInput, RetrievedChunk } from '../query/types';

export const NOT_FOUND_ANSWER = 'Not found in the documents.';

/** The failure when a streamed answer's provider fails after its first token: no one may take over then. */
export const STREAM_BROKEN = 'stream_broken';

export interface Citation {
  documentId: string;
  version: number;
  chunkId: string;
  page: number | null;
  /** Verbatim text of the chunk (checked), as the model or the extractive answerer quoted it. */
  quote: string;
  score: number;
}

/** One model call as accounting sees it, failed calls included. */
export interface ModelCall {
  provider: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  latencyMs: number;
  outcome: 'valid' | 'invalid_output' | 'failed' | 'skipped_circuit_open';
  error?: string;
}

export interface GroundedAnswer {
  found: boolean;
  answer: string;
  citations: Citation[];
}

/** A document near the question, named when the answer is "not found" so the user can look there. */
export interface ClosestDocument {
  documentId: string;
  title: string | null;
  score: number;
}

/** Why an answer is "not found", so a user can act on it. */
export interface NotFoundReason {
  /** `no_candidates`: retrieval found nothing; `below_relevance_floor`: nothing scored high enough; `model_declined`: the model read the sources and found no answer. */
  reason: 'no_candidates' | 'below_relevance_floor' | 'model_declined' | 'no_evidence';
  bestScore: number | null;
  floor: number | null;
  closest: ClosestDocument[];
}

export interface RankedChunk extends RetrievedChunk {
  /** The reranker's relevance, comparable to the configured floor. */
  relevance: number;
}

export interface AnswerInput extends RetrieveInput {
  /** Hybrid candidates handed to the reranker; the best `topK` above the relevance floor remain. */
  rerankCandidates: number;
  /** Set when the API streams: the activity publishes text deltas on this channel. */
  streamChannel?: string;
  /** The tenant's policy for retrieved chunks that carry instructions; unset on runs started before it existed. */
  retrievedInstructions?: 'flag' | 'drop';
  /** The collection's relevance floor, where it sets one. */
  relevanceFloor?: number;
  /** The prompt version to answer with (resolved from its label by the API); unset on runs from before the prompt registry. */
  prompt?: PromptRef;
  /** An experiment variant's model: routed first, the others behind it. */
  preferredModel?: string;
  /** The tenant's allow-list of chat models; unset: every configured one. */
  allowedModels?: string[];
}

export interface AnswerResult extends GroundedAnswer {
  /** Set when `found` is false: why, and which documents came closest. */
  notFound?: NotFoundReason;
  /** Who produced the answer: a provider name, `extractive`, or `none` when retrieval found nothing relevant. */
  answeredBy: { provider: string; model: string };
  promptVersion: string;
  calls: ModelCall[];
  /** Why earlier candidates were passed over, in order. */
  fallbacks: string[];
  latencyMs: { embed: number; search: number; rerank: number; generate: number };
  /** Retrieved chunks that carried instructions (flagged, or dropped by policy). */
  instructionChunks?: { chunkId: string; rules: string[] }[];
}
