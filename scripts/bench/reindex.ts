import { startStack } from '../../test/helpers/stack';
import { createPlatformWorkers } from '../../workers';
import { waitFor } from '../../test/helpers/temporal';
import { buildCorpus, ingestCorpus, round, trackPeakRss } from './ingest';

/**
 * Re-index throughput against first-time ingestion of the same corpus, on one stack: the corpus
 * is ingested (HTTP → ingestDocumentWorkflow per document), then rebuilt as generation 2 by
 * reindexCollectionWorkflow (child workflow per batch, from the stored raw bytes), gate and swap
 * included. Same chunking by default, so both embed the same number of chunks;
 * `--chunk-size=N --overlap=M` re-chunks instead. `--second-worker` then re-indexes once more with
 * a second set of workers on the same queues (1 vs 2 workers, side by side in one run).
 */
export async function benchReindex(args: string[]): Promise<void> {
  const option = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const targetPages = Number(option('pages') ?? 150);
  const documents = await buildCorpus(targetPages);
  const pages = documents.reduce((sum, d) => sum + d.pages, 0);
  console.log(`corpus: ${documents.length} PDFs, ${pages} pages (pages of pdf-parse@1.1.1's real test PDFs, recombined)`);

  const peak = trackPeakRss();
  const stack = await startStack();
  try {
    const api = stack.api;
    const { config } = stack.platform;
    const ingestStarted = performance.now();
    const ready = await ingestCorpus(api, documents);
    const ingestSeconds = (performance.now() - ingestStarted) / 1000;
    if (ready.some((d) => d.stage !== 'ready')) throw new Error('a document failed to ingest');
    const ingestChunks = ready.reduce((sum, d) => sum + d.chunkCount, 0);

    const chunking = option('chunk-size') ? { chunkSizeTokens: Number(option('chunk-size')), chunkOverlapTokens: Number(option('overlap') ?? 20) } : {};
    const reindexStarted = performance.now();
    const started = await api.postJson('/v1/collections/bench/reindex', chunking);
    if (started.status !== 202) throw new Error(`re-index answered ${started.status}: ${JSON.stringify(started.body)}`);
    const run = await waitFor(
      'the re-index to finish',
      async () => (await api.get(`/v1/collections/bench/reindex/${started.body.id}`)).body,
      (r) => ['done', 'gate_failed', 'failed', 'cancelled'].includes(r.stage),
      3_600_000,
      250,
    );
    const reindexSeconds = (performance.now() - reindexStarted) / 1000;
    if (run.stage !== 'done') throw new Error(`re-index ended ${run.stage}: ${JSON.stringify(run.report)}`);

    const result = {
      documents: documents.length,
      pages,
      ingestChunks,
      ingestSeconds: round(ingestSeconds),
      ingestDocumentsPerSecond: round(documents.length / ingestSeconds),
      ingestChunksPerSecond: round(ingestChunks / ingestSeconds),
      reindexChunks: run.chunks,
      reindexSeconds: round(reindexSeconds),
      reindexDocumentsPerSecond: round(documents.length / reindexSeconds),
      reindexChunksPerSecond: round(run.chunks / reindexSeconds),
      reindexToIngestChunkRate: round(run.chunks / reindexSeconds / (ingestChunks / ingestSeconds), 3),
      reindexBatchSize: config.REINDEX_BATCH_SIZE,
      embedBatchSize: config.EMBED_BATCH_SIZE,
      peakRssMiB: Math.round(peak.stop() / 2 ** 20),
    };
    console.table(result);
    console.log(`re-index (gate and swap included) runs at ${(result.reindexToIngestChunkRate * 100).toFixed(1)}% of first-time ingestion's chunk rate`);
    console.log(JSON.stringify(result));

    if (args.includes('--second-worker')) {
      // The same re-index again (generation 3) with a second set of workers polling the same
      // queues: the sliding window keeps REINDEX_BATCHES_IN_FLIGHT batches for them to share.
      const second = await createPlatformWorkers(stack.platform, { address: stack.env.address });
      const running = second.run();
      try {
        const twoStarted = performance.now();
        const again = await api.postJson('/v1/collections/bench/reindex', chunking);
        if (again.status !== 202) throw new Error(`re-index answered ${again.status}: ${JSON.stringify(again.body)}`);
        const twoRun = await waitFor('the second re-index', async () => (await api.get(`/v1/collections/bench/reindex/${again.body.id}`)).body, (r) => ['done', 'gate_failed', 'failed', 'cancelled'].includes(r.stage), 3_600_000, 250);
        if (twoRun.stage !== 'done') throw new Error(`second re-index ended ${twoRun.stage}`);
        const twoSeconds = (performance.now() - twoStarted) / 1000;
        const scaling = { oneWorkerSeconds: round(reindexSeconds), twoWorkersSeconds: round(twoSeconds), speedup: round(reindexSeconds / twoSeconds, 2), batchesInFlight: config.REINDEX_BATCHES_IN_FLIGHT, embeddingThreads: config.EMBEDDING_THREADS };
        console.table(scaling);
        console.log(JSON.stringify(scaling));
      } finally {
        await second.shutdown();
        await running;
      }
    }
  } finally {
    await stack.close();
  }
}
