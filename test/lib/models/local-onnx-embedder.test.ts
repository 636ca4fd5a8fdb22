import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { localEmbedder } from '../../helpers/embedder';

const cosine = (a: number[], b: number[]) => a.reduce((sum, x, i) => sum + x * (b[i] as number), 0);

describe('LocalOnnxEmbedder (all-MiniLM-L6-v2 int8, from local files)', () => {
  after(async () => (await localEmbedder()).close());

  it('embeds into 384 unit-length dimensions, deterministically and independent of batch-mates', async () => {
    const embedder = await localEmbedder();
    const [alone] = await embedder.embed(['The invoice is due in thirty days.']);
    const [batched] = await embedder.embed(['The invoice is due in thirty days.', 'A much longer neighbour in the batch that forces padding of the shorter sentence.']);
    assert.equal(alone!.length, 384);
    assert.ok(Math.abs(cosine(alone!, alone!) - 1) < 1e-5);
    assert.ok(alone!.every((x, i) => Math.abs(x - batched![i]!) < 1e-4), 'padding must not change the embedding');
  });

  it('places paraphrases closer than unrelated sentences', async () => {
    const embedder = await localEmbedder();
    const [query, paraphrase, unrelated] = await embedder.embed([
      'How do I reset my password?',
      'Steps to recover access when you forgot your login password',
      'The solar cell uses a GaInP/GaAs tunnel junction',
    ]);
    const close = cosine(query!, paraphrase!);
    const far = cosine(query!, unrelated!);
    assert.ok(close > 0.5 && far < 0.2 && close - far > 0.4, `paraphrase ${close.toFixed(3)} vs unrelated ${far.toFixed(3)}`);
  });

  it('counts tokens with the model’s own WordPiece tokenizer', async () => {
    const embedder = await localEmbedder();
    assert.equal(embedder.countTokens('hello world'), 2);
    assert.ok(embedder.countTokens('unbelievably') > 1, 'rare words split into word pieces');
  });
});
