import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PlatformError } from '../../../lib/errors';
import { detectMediaType } from '../../../lib/ingest/media-type';
import { realPdfs } from '../../helpers/fixtures';

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
const rejectedWith = (code: string, status: number) => (error: unknown) => PlatformError.isInstance(error) && error.code === code && error.statusCode === status;

describe('detectMediaType', () => {
  it('trusts bytes over names: a PDF is a PDF whatever it is called', async () => {
    assert.equal(await detectMediaType(realPdfs.nitricOxide(), 'application/pdf', 'paper.pdf'), 'application/pdf');
    assert.equal(await detectMediaType(realPdfs.nitricOxide(), 'application/octet-stream', 'paper'), 'application/pdf');
  });

  it('uses the declared type or extension for text', async () => {
    assert.equal(await detectMediaType(Buffer.from('# Title'), 'text/markdown', undefined), 'text/markdown');
    assert.equal(await detectMediaType(Buffer.from('# Title'), undefined, 'notes.md'), 'text/markdown');
    assert.equal(await detectMediaType(Buffer.from('<!DOCTYPE html><p>x'), undefined, undefined), 'text/html');
    assert.equal(await detectMediaType(Buffer.from('plain words'), 'text/plain; charset=utf-8', 'a.txt'), 'text/plain');
  });

  it('rejects lying content types with 415 content_type_mismatch', async () => {
    await assert.rejects(detectMediaType(Buffer.from('not a pdf at all'), 'application/pdf', 'x.pdf'), rejectedWith('content_type_mismatch', 415));
    await assert.rejects(detectMediaType(realPdfs.nitricOxide(), 'text/plain', 'x.txt'), rejectedWith('content_type_mismatch', 415));
  });

  it('rejects binary formats and unknown declared types with 415 unsupported_media_type', async () => {
    await assert.rejects(detectMediaType(PNG, 'text/plain', 'x.txt'), rejectedWith('unsupported_media_type', 415));
    await assert.rejects(detectMediaType(Buffer.from('{}'), 'application/json', 'x.json'), rejectedWith('unsupported_media_type', 415));
  });
});
