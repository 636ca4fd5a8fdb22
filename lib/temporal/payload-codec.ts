import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

/** Marks a payload this codec encrypted; anything else passes through decode untouched. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** Which key encrypted it, so rotated-out keys still decrypt what they wrote. */
export const KEY_ID_METADATA = 'encryption-key-id';

const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface PayloadKey {
  id: string;
  /** 32 bytes: AES-256. */
  key: Buffer;
}

/**
 * Encrypts every payload (workflow inputs and results, activity arguments and results, signals,
 * updates, queries, failures' details) with AES-256-GCM before it leaves the process, so the
 * Temporal server and its histories hold ciphertext only. The first key encrypts; every key
 * decrypts, so a rotation adds a key in front and keeps the old ones until their histories expire.
 * Payloads written before encryption was on (no encrypted marker) decode as they are.
 */
export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;

  constructor(private readonly keys: PayloadKey[]) {
    if (keys.length === 0) throw new Error('payload encryption needs at least one key');
    for (const { id, key } of keys) if (key.length !== 32) throw new Error(`payload key ${id} must be 32 bytes (AES-256), got ${key.length}`);
    this.byId = new Map(keys.map(({ id, key }) => [id, key]));
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const { id, key } = this.keys[0] as PayloadKey;
    return payloads.map((payload) => {
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return { metadata: { [METADATA_ENCODING_KEY]: Buffer.from(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: Buffer.from(id) }, data: sealed };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (Buffer.from(payload.metadata?.[METADATA_ENCODING_KEY] ?? []).toString() !== ENCRYPTED_ENCODING) return payload;
      const id = Buffer.from(payload.metadata?.[KEY_ID_METADATA] ?? []).toString();
      const key = this.byId.get(id);
      if (!key) throw new Error(`payload encrypted with key "${id}", which is not configured (PAYLOAD_KEYS)`);
      const sealed = Buffer.from(payload.data ?? []);
      if (sealed.length < IV_BYTES + TAG_BYTES) throw new Error('encrypted payload is truncated');
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      const plain = Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
      return temporal.api.common.v1.Payload.decode(plain);
    });
  }
}

/**
 * Keys from configuration: `id:base64,id:base64`, newest first (it encrypts). Ids are short
 * names (`2026-12`, `k2`) recorded on each payload; a key's bytes are base64 of 32 random bytes
 * (`openssl rand -base64 32`).
 */
export function parsePayloadKeys(value: string): PayloadKey[] {
  const keys = value
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((entry) => {
      const at = entry.indexOf(':');
      if (at <= 0) throw new Error('each payload key is id:base64');
      const id = entry.slice(0, at);
      if (!/^[\w.-]{1,64}$/.test(id)) throw new Error(`payload key id "${id}" must be 1-64 letters, digits, '.', '_' or '-'`);
      return { id, key: Buffer.from(entry.slice(at + 1), 'base64') };
    });
  const ids = keys.map((k) => k.id);
  if (new Set(ids).size !== ids.length) throw new Error('payload key ids must be distinct');
  return keys;
}

/** One new key entry, for a deployment that has none yet. */
export function newPayloadKeyEntry(id: string): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}
