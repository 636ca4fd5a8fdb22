import { fileTypeFromBuffer } from 'file-type';
import { DocumentErrorCode, PlatformError } from '../errors';
import type { MediaType } from './types';

const DECLARED: Record<string, MediaType | 'sniff'> = {
  'application/pdf': 'application/pdf',
  'text/markdown': 'text/markdown',
  'text/x-markdown': 'text/markdown',
  'text/html': 'text/html',
  'application/xhtml+xml': 'text/html',
  'text/plain': 'text/plain',
  'application/octet-stream': 'sniff',
  '': 'sniff',
};

const BY_EXTENSION: Record<string, MediaType> = {
  pdf: 'application/pdf',
  md: 'text/markdown',
  markdown: 'text/markdown',
  html: 'text/html',
  htm: 'text/html',
  txt: 'text/plain',
  text: 'text/plain',
};

/** A PDF header may sit anywhere in the first 1024 bytes (ISO 32000-1, 7.5.2 note). */
function looksLikePdf(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.subarray(0, 1024)).includes('%PDF-');
}

function looksLikeHtml(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.subarray(0, 512)).toString('utf8').trimStart().toLowerCase();
  return head.startsWith('<!doctype html') || head.startsWith('<html');
}

/**
 * Decides what the bytes really are. The declared type and the file name are claims; the bytes
 * are evidence. A claim the bytes contradict is rejected rather than guessed around.
 */
export async function detectMediaType(bytes: Uint8Array, declaredContentType: string | undefined, filename: string | undefined): Promise<MediaType> {
  const declaredRaw = (declaredContentType ?? '').split(';')[0]!.trim().toLowerCase();
  const declared = DECLARED[declaredRaw];
  if (declared === undefined) {
    throw new PlatformError(DocumentErrorCode.unsupportedMediaType, `content type ${declaredRaw} is not supported; send PDF, Markdown, HTML or plain text`, 415);
  }
  const isPdf = looksLikePdf(bytes);
  const extension = filename?.toLowerCase().match(/\.([a-z0-9]+)$/)?.[1];
  const claimed = declared !== 'sniff' ? declared : extension ? BY_EXTENSION[extension] : undefined;

  if (claimed === 'application/pdf' && !isPdf) {
    throw new PlatformError(DocumentErrorCode.contentTypeMismatch, 'declared as PDF but the bytes are not a PDF', 415);
  }
  if (isPdf) {
    if (claimed && claimed !== 'application/pdf') {
      throw new PlatformError(DocumentErrorCode.contentTypeMismatch, `declared as ${claimed} but the bytes are a PDF`, 415);
    }
    return 'application/pdf';
  }
  const binary = await fileTypeFromBuffer(bytes);
  if (binary && !['xml', 'html'].includes(binary.ext)) {
    throw new PlatformError(DocumentErrorCode.unsupportedMediaType, `the bytes are ${binary.mime}, which is not supported`, 415);
  }
  if (claimed) return claimed;
  return looksLikeHtml(bytes) ? 'text/html' : 'text/plain';
}
