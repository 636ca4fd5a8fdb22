import { createHash, randomBytes } from 'node:crypto';

/**
 * API keys are 256 random bits: a fast hash is enough to store them (nothing to brute-force),
 * and looking a key up by its hash needs no per-key salt. Only the hash is ever stored.
 */
const KEY_PREFIX = 'rag_';

export function generateApiKey(): { key: string; hash: string; prefix: string } {
  const key = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { key, hash: hashApiKey(key), prefix: displayPrefix(key) };
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Enough of the key to recognise it in a list, far too little to use it. */
export function displayPrefix(key: string): string {
  return `${key.slice(0, 10)}…`;
}

export function newKeyId(): string {
  return `key_${randomBytes(6).toString('hex')}`;
}

/** `Authorization: Bearer <key>` or `x-api-key: <key>`. */
export function apiKeyFrom(headers: Record<string, string | string[] | undefined>): string | undefined {
  const authorization = headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match) return match[1];
  }
  const header = headers['x-api-key'];
  return typeof header === 'string' && header.trim() !== '' ? header.trim() : undefined;
}
