import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EvidenceScorer } from '../../../lib/answer/evidence-scorer';
import { extractiveAnswer } from '../../../lib/answer/extractive';
import type { RankedChunk } from '../../../lib/answer/types';
import type { Embedder } from '../../../lib/models/embedder';
import { localEmbedder } from '../../helpers/embedder';

const chunk = (chunkId: string, text: string, extra: Partial<RankedChunk> = {}): RankedChunk => ({
  chunkId,
  documentId: `doc-${chunkId}`,
  version: 2,
  chunkIndex: 0,
  title: null,
  pageStart: 4,
  pageEnd: 4,
  headings: [],
  metadata: {},
  text,
  kind: 'text',
  score: 0.03,
  relevance: 0.6,
  ...extra,
});

/** Twenty-five sentences of an office handbook; the fact asked about is the 20th. */
const FILLER = [
  'The office opens at eight in the morning on weekdays.',
  'Visitors sign in at the front desk and wear a badge.',
  'The kitchen is cleaned every evening by the facilities team.',
  'Meeting rooms are booked through the shared calendar.',
  'Printers on each floor accept badge release jobs.',
  'Parking spaces in the garage are assigned by seniority.',
  'Lost items are kept at reception for thirty days.',
  'The library lends books for up to four weeks.',
  'Fire drills take place twice a year without notice.',
  'Plants on the desks are watered on Mondays.',
  'The gym in the basement opens at six.',
  'Bicycle racks are located behind the main entrance.',
  'Coffee beans are delivered on the first of every month.',
  'The mail room sorts letters before noon.',
  'Quiet zones are marked with green signs on the floor.',
  'Umbrellas may be borrowed from the stand near the lifts.',
  'The roof terrace closes when it rains.',
  'Lockers can be rented from the facilities desk.',
  'New starters receive a laptop on their first day.',
];

describe('extractive answers from scored evidence', () => {
  let embedder: Embedder;
  let scorer: EvidenceScorer;
  before(async () => {
    embedder = await localEmbedder();
    scorer = new EvidenceScorer(embedder);
  });
  after(() => embedder.close());

  const answer = async (question: string, chunks: RankedChunk[]) => extractiveAnswer(chunks, await scorer.score(question, chunks));

  it('quotes a fact that sits in the 20th sentence of its chunk', async () => {
    const fact = 'Passwords are rotated every ninety days and must not be reused.';
    const text = [...FILLER, fact, 'Desks are cleared every Friday evening.', 'The cafeteria serves lunch from noon.', 'Guests may use the lounge.', 'The lights switch off at ten.'].join(' ');
    assert.equal(text.split('. ').findIndex((s) => s.startsWith('Passwords')), 19);
    const result = await answer('How often do we have to change our passwords?', [chunk('a', text)]);
    assert.equal(result.found, true);
    assert.ok(result.citations.some((c) => c.quote.includes(fact)), JSON.stringify(result));
    for (const citation of result.citations) assert.ok(text.includes(citation.quote), 'every quote is verbatim');
  });

  it('quotes overlapping chunks of one document once', async () => {
    const shared = 'Refunds are paid within fourteen days of the return arriving at the warehouse.';
    const first = chunk('a', `Returns are accepted for thirty days. ${shared}`, { documentId: 'returns', chunkIndex: 0 });
    const second = chunk('b', `${shared} Items must be unused and in their box.`, { documentId: 'returns', chunkIndex: 1 });
    const result = await answer('How long until I get my money back after returning something?', [first, second]);
    const quotes = result.citations.map((c) => c.quote).filter((q) => q.includes('Refunds are paid'));
    assert.equal(quotes.length, 1, JSON.stringify(result.citations));
  });

  it('quotes a sentence the document repeats with one word inflected once', async () => {
    const first = chunk('a', 'Window options. The -persist plot windows survive after the main program exits.', { documentId: 'manual', chunkIndex: 0 });
    const second = chunk('b', 'Terminal notes. The -persist plots windows survive after the main program exits.', { documentId: 'manual', chunkIndex: 40 });
    const result = await answer('Do plot windows stay open after the program exits?', [first, second]);
    const quotes = result.citations.map((c) => c.quote).filter((q) => q.includes('survive after'));
    assert.equal(quotes.length, 1, JSON.stringify(result.citations));
  });

  it('answers with the sentence under a FAQ question, not the question itself', async () => {
    const faq = chunk('faq', '(12) I deleted a lot of data but the file did not get any smaller. Is this a bug?\n\nNo. The unused space is kept on an internal free list and reused by later inserts.');
    const result = await answer('Why is my database file still large after deleting rows?', [faq]);
    assert.equal(result.found, true);
    assert.ok(result.answer.includes('internal free list'), result.answer);
    assert.ok(!result.citations.some((c) => c.quote.endsWith('?') && !c.quote.includes('free list')), 'a quote is never the question alone');
  });

  it('prefers prose to a contents listing that repeats the question words', async () => {
    const toc = chunk('toc', 'Password rotation 12\nPassword rules 13\nRotation schedule 14', { kind: 'toc' });
    const prose = chunk('body', 'Every account password expires after ninety days, and a new one must be chosen.', { chunkIndex: 3 });
    const result = await answer('When do passwords have to be rotated?', [toc, prose]);
    assert.equal(result.citations[0]?.chunkId, 'body', JSON.stringify(result.citations));
  });

  it('names the passage it quotes, in reading order, each passage cited once', async () => {
    const text = 'Invoices are sent on the first working day of the month. They are payable within thirty days. Late payments incur a fee of two percent.';
    const result = await answer('Within how many days must an invoice be paid?', [chunk('inv', text)]);
    assert.equal(result.found, true);
    // "They are payable …" leans on the sentence before it, which comes with it.
    assert.ok(result.citations.some((c) => c.quote.startsWith('Invoices are sent') && c.quote.includes('They are payable within thirty days.')), JSON.stringify(result.citations));
    assert.match(result.answer, /\[1\]$/);
  });

  it('says "not found" when there is nothing to quote', async () => {
    assert.deepEqual(await answer('anything', []), { found: false, answer: 'Not found in the documents.', citations: [], passages: [] });
  });
});
