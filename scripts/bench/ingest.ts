import { PDFDocument } from 'pdf-lib';
import { chunkDocument } from '../../lib/ingest/chunk';
import { parseDocument } from '../../lib/ingest/parse';
import { realPdfs } from '../../test/helpers/fixtures';
import { apiClient, startStack } from '../../test/helpers/stack';
import { waitFor } from '../../test/helpers/temporal';

/**
 * Ingestion throughput: a multi-hundred-page corpus of real PDFs through the whole pipeline
 * (HTTP → Temporal → parse → chunk → embed → index → activate), against the raw throughput of
 * the same embedding model on the same chunks. Prints pages/s, chunks/s, their ratio and peak RSS.
 */
export async function benchIngest(args: string[]): Promise<void> {
  const targetPages = Number(args.find((a) => a.startsWith('--pages='))?.split('=')[1] ?? 300);
  const documents = await buildCorpus(targetPages);
  const totalPages = documents.reduce((sum, d) => sum + d.pages, 0);
  console.log(`corpus: ${documents.length} PDFs, ${totalPages} pages (pages of pdf-parse@1.1.1's real test PDFs, recombined)`);

  const peak = trackPeakRss();
  const stack = await startStack();
  try {
    const { embedder, config } = stack.platform;
    const api = apiClient(stack.baseUrl);
    await embedder.embed(['warm-up sentence for the model']);

    // Pipeline: everything uploaded at once, clock stops when the last document is ready.
    const started = performance.now();
    const ids = await Promise.all(
      documents.map(async (doc, i) => {
        const response = await api.upload('bench', { bytes: doc.bytes, filename: `bench-${i}.pdf`, type: 'application/pdf' }, { documentId: `bench-${i}` });
        if (response.status !== 202) throw new Error(`upload ${i} answered ${response.status}: ${JSON.stringify(response.body)}`);
        return response.body.documentId as string;
      }),
    );
    const statuses = await waitFor(
      'every document to be ready',
      () => Promise.all(ids.map(async (id) => (await api.get(`/v1/documents/${id}`)).body)),
      (docs) => docs.every((d) => d.stage === 'ready' || d.stage === 'failed'),
      3_600_000,
      250,
    );
    const pipelineSeconds = (performance.now() - started) / 1000;
    const failed = statuses.filter((d) => d.stage !== 'ready');
    if (failed.length > 0) throw new Error(`${failed.length} documents failed: ${JSON.stringify(failed[0].error)}`);
    const pipelineChunks = statuses.reduce((sum, d) => sum + d.chunkCount, 0);

    // Raw: the same model, same batch size, on the same chunks, with nothing else around it.
    const collection = (await stack.platform.metadata.getCollection('default', 'bench'))!;
    const texts: string[] = [];
    for (const doc of documents) {
      const parsed = await parseDocument(doc.bytes, 'application/pdf');
      const chunks = await chunkDocument(parsed, collection, (t) => embedder.countTokens(t), false);
      texts.push(...chunks.map((c) => c.text));
    }
    if (texts.length !== pipelineChunks) throw new Error(`raw run has ${texts.length} chunks, pipeline indexed ${pipelineChunks}`);
    const rawStarted = performance.now();
    for (let i = 0; i < texts.length; i += config.EMBED_BATCH_SIZE) await embedder.embed(texts.slice(i, i + config.EMBED_BATCH_SIZE));
    const rawSeconds = (performance.now() - rawStarted) / 1000;

    const result = {
      documents: documents.length,
      pages: totalPages,
      chunks: pipelineChunks,
      pipelineSeconds: round(pipelineSeconds),
      pipelinePagesPerSecond: round(totalPages / pipelineSeconds),
      pipelineChunksPerSecond: round(pipelineChunks / pipelineSeconds),
      rawEmbedSeconds: round(rawSeconds),
      rawChunksPerSecond: round(texts.length / rawSeconds),
      pipelineToRawRatio: round(rawSeconds / pipelineSeconds, 3),
      peakRssMiB: Math.round(peak.stop() / 2 ** 20),
      embedBatchSize: config.EMBED_BATCH_SIZE,
      embeddingThreads: config.EMBEDDING_THREADS,
      chunkSizeTokens: collection.chunkSizeTokens,
    };
    console.table(result);
    console.log(`pipeline keeps ${(result.pipelineToRawRatio * 100).toFixed(1)}% of raw embedding throughput (target: at least 85%)`);
    console.log(JSON.stringify(result));
  } finally {
    await stack.close();
  }
}

/** Real PDF pages recombined into documents of 20-40 pages; each document's bytes differ. */
async function buildCorpus(targetPages: number): Promise<{ bytes: Uint8Array; pages: number }[]> {
  const sources = await Promise.all([realPdfs.tracingJit(), realPdfs.solarCell(), realPdfs.nitricOxide()].map((bytes) => PDFDocument.load(bytes)));
  const pool = sources.flatMap((source) => source.getPageIndices().map((index) => ({ source, index })));
  const corpus: { bytes: Uint8Array; pages: number }[] = [];
  let made = 0;
  for (let d = 0; made < targetPages; d++) {
    const size = Math.min(20 + ((d * 7) % 21), targetPages - made);
    const doc = await PDFDocument.create();
    for (let p = 0; p < size; p++) {
      const { source, index } = pool[(d * 5 + p) % pool.length]!;
      const [page] = await doc.copyPages(source, [index]);
      doc.addPage(page!);
    }
    doc.setTitle(`bench document ${d}`);
    corpus.push({ bytes: await doc.save(), pages: size });
    made += size;
  }
  return corpus;
}

function trackPeakRss(): { stop(): number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 100);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.resourceUsage().maxRSS * 1024);
    },
  };
}

const round = (value: number, digits = 2) => Number(value.toFixed(digits));
