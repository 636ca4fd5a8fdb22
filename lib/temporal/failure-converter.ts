import { DefaultFailureConverter } from '@temporalio/common';

/**
 * Failure messages and stack traces travel as an encoded payload instead of plain fields, so the
 * payload codec encrypts them like every other payload: a message that quotes a document or a
 * question stays private. Failure types (the error codes the API maps to statuses) stay readable.
 * Loaded by path (data-converter.ts), so the workflow sandbox uses the same converter.
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
