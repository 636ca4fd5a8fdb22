import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * Content-addressed raw documents plus the claim-check artifacts of ingestion (parsed pages,
 * chunks, vectors), so workflow histories carry keys, never text. Writes are atomic (temp + rename):
 * a worker killed mid-write leaves either the old file or the new one, never half of one.
 */
/** Per-version scratch space for ingestion's claim-check artifacts. */
export function workPrefix(ref: { tenantId: string; documentId: string; version: number }): string {
  return `work/${ref.tenantId}/${ref.documentId}/v${ref.version}/`;
}

export class BlobStore {
  constructor(private readonly root: string) {}

  static sha256(bytes: Uint8Array): string {
    return createHash('sha256').update(bytes).digest('hex');
  }

  rawKey(sha256: string): string {
    return `raw/${sha256.slice(0, 2)}/${sha256}`;
  }

  async putRaw(bytes: Uint8Array): Promise<{ sha256: string; key: string }> {
    const sha256 = BlobStore.sha256(bytes);
    const key = this.rawKey(sha256);
    if (!(await this.exists(key))) await this.put(key, bytes);
    return { sha256, key };
  }

  async put(key: string, bytes: Uint8Array | string): Promise<void> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    const temp = `${path}.${randomUUID()}.tmp`;
    await writeFile(temp, bytes);
    await rename(temp, path);
  }

  async get(key: string): Promise<Buffer> {
    return readFile(this.pathOf(key));
  }

  async putJson(key: string, value: unknown): Promise<void> {
    await this.put(key, JSON.stringify(value));
  }

  async getJson<T>(key: string): Promise<T> {
    return JSON.parse((await this.get(key)).toString('utf8')) as T;
  }

  async exists(key: string): Promise<boolean> {
    return stat(this.pathOf(key)).then(
      () => true,
      () => false,
    );
  }

  /** Removes one key, or every key under a prefix ending in '/'. */
  async remove(keyOrPrefix: string): Promise<void> {
    await rm(this.pathOf(keyOrPrefix), { recursive: true, force: true });
  }

  private pathOf(key: string): string {
    // Keys are built from validated ids; this guard keeps a bug from ever escaping the root.
    const parts = (key.endsWith('/') ? key.slice(0, -1) : key).split('/');
    if (parts.some((part) => part === '' || part === '.' || part === '..')) throw new Error(`illegal blob key ${key}`);
    return join(this.root, ...parts);
  }
}
