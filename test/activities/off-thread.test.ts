import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { chunkText, parseText } from '../../activities/indexing';
import type { Chunk } from '../../lib/ingest/chunk';
import { CpuPool } from '../../lib/ingest/cpu-pool';
import type { IndexTarget } from '../../lib/ingest/types';
import type { Embedder } from '../../lib/models/embedder';
import { localEmbedder } from '../helpers/embedder';

/**
 * Parsing and chunking run in worker threads, with the activity heartbeating while it waits: a
 * large text neither times out its heartbeat nor stalls the event loop (timers keep firing).
 */
describe('CPU-heavy ingestion steps off the event loop', () => {
  let cpu: CpuPool;
  let embedder: Embedder;
  before(async () => {
    cpu = new CpuPool({ threads: 1 });
    embedder = await localEmbedder();
  });
  after(async () => {
    await cpu.close();
    await embedder.close();
  });

  it('chunks 8 million characters while heartbeating, with the event loop free', async () => {
    // Every paragraph different, so that no token count is served from the splitter's cache.
    const words = ['invoice', 'ledger', 'payment', 'customer', 'account', 'balance', 'credit', 'refund', 'supplier', 'receipt'];
    const paragraphs: string[] = [];
    for (let i = 0, size = 0; size < 8_000_000; i++) {
      const sentence = Array.from({ length: 60 }, (_, j) => `${words[(i * 7 + j * 3) % words.length]}${(i * 31 + j) % 997}`).join(' ') + '.';
      paragraphs.push(sentence);
      size += sentence.length + 2;
    }
    const text = paragraphs.join('\n\n');
    const env = new MockActivityEnvironment();
    let heartbeats = 0;
    env.on('heartbeat', () => heartbeats++);
    let worstLag = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      worstLag = Math.max(worstLag, now - last - 100);
      last = now;
    }, 100);
    const target: IndexTarget = { generation: 1, indexName: 't', embeddingModel: embedder.modelId, chunking: { chunkSizeTokens: 200, chunkOverlapTokens: 30 } };
    const started = performance.now();
    let took = 0;
    try {
      const chunks: Chunk[] = await env.run(async () => chunkText(cpu, await parseText(cpu, new TextEncoder().encode(text), 'text/plain'), 'text/plain', target, embedder));
      assert.ok(chunks.length > 15_000, `${chunks.length} chunks`);
      assert.ok(chunks.every((c) => c.tokenCount <= 200));
      took = performance.now() - started;
    } finally {
      clearInterval(ticker);
    }
    // One heartbeat every 3 s while a thread works (parse, then chunk).
    assert.ok(heartbeats >= Math.floor(took / 3_000) - 1 && heartbeats >= 1, `heartbeats: ${heartbeats} in ${took.toFixed(0)} ms`);
    assert.ok(worstLag < 400, `timers were late by up to ${worstLag.toFixed(0)} ms`);
  });

  it('turns a rejected document into its code', async () => {
    const env = new MockActivityEnvironment();
    await assert.rejects(env.run(() => parseText(cpu, new Uint8Array([0xff, 0xfe, 0x00]), 'text/plain')), (error: Error & { type?: string }) => error.type === 'invalid_encoding');
  });
});
