import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PII_ENTITIES } from '../../../lib/gateway/tenant-settings';
import { luhn, maskPii, validIban } from '../../../lib/guardrails/pii';
import { MaskingStream } from '../../../lib/guardrails/masking-stream';

describe('PII masking', () => {
  it('masks e-mail, phone, card, IBAN and national ids, and counts them', () => {
    const text =
      'Write to jane.doe+hr@example.co.uk or call +44 20 7946 0958. Card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00, SSN 123-45-6789, NINO AB 12 34 56 C, DNI 12345678Z.';
    const masked = maskPii(text, PII_ENTITIES);
    assert.equal(masked.text, 'Write to [EMAIL] or call [PHONE]. Card [CREDIT_CARD], IBAN [IBAN], SSN [NATIONAL_ID], NINO [NATIONAL_ID], DNI [NATIONAL_ID].');
    assert.deepEqual(masked.counts, { email: 1, phone: 1, credit_card: 1, iban: 1, national_id: 3 });
  });

  it('leaves numbers that fail their checksum, dates and versions alone', () => {
    const text = 'Order 4111 1111 1111 1112 shipped 2024-01-15 with v1.2.3; IBAN GB82 WEST 1234 5698 7654 33; DNI 12345678A.';
    assert.deepEqual(maskPii(text, PII_ENTITIES), { text, counts: {} });
    assert.equal(luhn('4111111111111111'), true);
    assert.equal(luhn('0000000000000000'), false, 'all zeros pass the sum but are no card');
    assert.equal(validIban('GB82WEST12345698765432'), true);
  });

  it('masks only the entities the tenant chose', () => {
    assert.equal(maskPii('mail a@b.io, call 555-123-4567', ['email']).text, 'mail [EMAIL], call 555-123-4567');
  });

  it('masks a number split over streamed deltas, releasing text at sentence ends', () => {
    const out: string[] = [];
    const stream = new MaskingStream(PII_ENTITIES, (text) => out.push(text));
    for (const delta of ['Call +44 20 79', '46 0958 or mail jo', 'e@exam', 'ple.com. Then', ' wait']) stream.push(delta);
    assert.deepEqual(out, ['Call [PHONE] or mail [EMAIL]. '], 'nothing is released before a boundary');
    stream.flush();
    assert.equal(out.join(''), 'Call [PHONE] or mail [EMAIL]. Then wait');
  });
});
