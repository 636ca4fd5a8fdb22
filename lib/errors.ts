/**
 * Machine-readable error codes shared by the API, activities and workflows.
 * Pure module: safe to import from the workflow sandbox.
 */
export const DocumentErrorCode = {
  pdfCorrupt: 'pdf_corrupt',
  pdfEncrypted: 'pdf_encrypted',
  noExtractableText: 'no_extractable_text',
  emptyDocument: 'empty_document',
  invalidEncoding: 'invalid_encoding',
  unsupportedMediaType: 'unsupported_media_type',
  contentTypeMismatch: 'content_type_mismatch',
  documentTooLarge: 'document_too_large',
  pdfTooManyPages: 'pdf_too_many_pages',
  textTooLong: 'text_too_long',
  embeddingDimensionMismatch: 'embedding_dimension_mismatch',
} as const;
export type DocumentErrorCode = (typeof DocumentErrorCode)[keyof typeof DocumentErrorCode];

/** The document was deleted while a run was ingesting it: the run cleans up and ends. */
export const DOCUMENT_DELETED = 'document_deleted';

/** Failures that a retry cannot fix: the workflow stops at once and marks the version failed. */
export const NON_RETRYABLE_INGEST_ERRORS: readonly string[] = [
  ...Object.values(DocumentErrorCode),
  DOCUMENT_DELETED,
  'provider_rejected',
  'provider_context_window',
  'provider_content_policy',
];

const marker = Symbol.for('rag-platform.PlatformError');

/**
 * An error that maps to a 4xx answer. Recognised by a symbol marker rather than instanceof,
 * which does not survive module duplication or the workflow sandbox.
 */
export class PlatformError extends Error {
  readonly [marker] = true;

  constructor(
    readonly code: string,
    message: string,
    readonly statusCode = 400,
    readonly details?: unknown,
    /** Response headers that belong to the answer, e.g. Retry-After on 429 or WWW-Authenticate on 401. */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'PlatformError';
  }

  static isInstance(error: unknown): error is PlatformError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}
