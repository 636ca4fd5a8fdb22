import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { payloadProtection } from '../../../lib/temporal/data-converter';
import { AesGcmPayloadCodec, ENCRYPTED_ENCODING, newPayloadKeyEntry, parsePayloadKeys } from '../../../lib/temporal/payload-codec';

const question = { question: 'What is the refund window for annual plans?', chunks: ['Annual plans are refundable within 30 days.'] };
const plain = () => defaultPayloadConverter.toPayload(question);
const text = (payload: { data?: Uint8Array | null }) => Buffer.from(payload.data ?? []).toString('latin1');

describe('AES-256-GCM payload codec', () => {
  it('encrypts a payload so neither its data nor its encoding shows, and decrypts it back exactly', async () => {
    const codec = new AesGcmPayloadCodec(parsePayloadKeys(newPayloadKeyEntry('k1')));
    const [sealed] = await codec.encode([plain()]);
    assert.equal(Buffer.from(sealed!.metadata!.encoding!).toString(), ENCRYPTED_ENCODING);
    assert.ok(!text(sealed!).includes('refund') && !text(sealed!).includes('json/plain'), 'no plaintext in the sealed payload');
    const [opened] = await codec.decode([sealed!]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(opened!), question);
    const [again] = await codec.encode([plain()]);
    assert.notDeepEqual(Buffer.from(again!.data!), Buffer.from(sealed!.data!), 'a fresh IV per payload');
  });

  it('rotates: the newest key encrypts, an older one still decrypts what it wrote, a removed one is named in the error', async () => {
    const [oldEntry, newEntry] = [newPayloadKeyEntry('2026-11'), newPayloadKeyEntry('2026-12')];
    const before = new AesGcmPayloadCodec(parsePayloadKeys(oldEntry));
    const written = await before.encode([plain()]);
    const rotated = new AesGcmPayloadCodec(parsePayloadKeys(`${newEntry},${oldEntry}`));
    assert.deepEqual(defaultPayloadConverter.fromPayload((await rotated.decode(written))[0]!), question);
    const [fresh] = await rotated.encode([plain()]);
    assert.equal(Buffer.from(fresh!.metadata!['encryption-key-id']!).toString(), '2026-12');
    const retired = new AesGcmPayloadCodec(parsePayloadKeys(newEntry));
    await assert.rejects(retired.decode(written), /key "2026-11", which is not configured/);
  });

  it('refuses a tampered payload, and lets payloads written before encryption through unchanged', async () => {
    const codec = new AesGcmPayloadCodec(parsePayloadKeys(newPayloadKeyEntry('k1')));
    const [sealed] = await codec.encode([plain()]);
    const tampered = Buffer.from(sealed!.data!);
    tampered[20] = (tampered[20] as number) ^ 1;
    await assert.rejects(codec.decode([{ ...sealed!, data: tampered }]), /authenticate/);
    const legacy = plain();
    assert.deepEqual(await codec.decode([legacy]), [legacy]);
  });

  it('rejects keys that are not AES-256 or not id:base64, and duplicate ids', () => {
    assert.throws(() => new AesGcmPayloadCodec(parsePayloadKeys(`k1:${Buffer.alloc(16).toString('base64')}`)), /32 bytes/);
    assert.throws(() => parsePayloadKeys('no-colon'), /id:base64/);
    assert.throws(() => parsePayloadKeys(`k1:${Buffer.alloc(32).toString('base64')},k1:${Buffer.alloc(32, 1).toString('base64')}`), /distinct/);
  });

  it('zero-setup: generates one key into DATA_DIR/payload-keys (mode 600) and reuses it on the next start', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'payload-keys-'));
    try {
      const first = payloadProtection({ PAYLOAD_ENCRYPTION: 'on', PAYLOAD_KEYS: undefined, DATA_DIR: dataDir });
      const file = join(dataDir, 'payload-keys');
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const sealed = await first.codec!.encode([plain()]);
      const second = payloadProtection({ PAYLOAD_ENCRYPTION: 'on', PAYLOAD_KEYS: undefined, DATA_DIR: dataDir });
      assert.deepEqual(defaultPayloadConverter.fromPayload((await second.codec!.decode(sealed))[0]!), question);
      assert.equal(readFileSync(file, 'utf8').trim().split('\n').length, 1);
      assert.deepEqual(payloadProtection({ PAYLOAD_ENCRYPTION: 'off', PAYLOAD_KEYS: undefined, DATA_DIR: dataDir }), { dataConverter: {}, codec: null });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
