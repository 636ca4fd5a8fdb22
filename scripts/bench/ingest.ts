import { PDFDocument } from 'pdf-lib';
import { chunkDocument, defaultChunking } from '../../lib/ingest/chunk';
import { parseDocument } from '../../lib/ingest/parse';
import type { Embedder } from '../../lib/models/embedder';
import { realPdfs } from '../../test/helpers/fixtures';
import { apiClient, startStack, type Stack } from '../../test/helpers/stack';
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
    const api = stack.api;
    // The same chunks the pipeline will make (chunking is deterministic), for the raw runs.
    const settings = defaultChunking(config, embedder.maxInputTokens);
    const texts: string[] = [];
    for (const doc of documents) {
      const parsed = await parseDocument(doc.bytes, 'application/pdf');
      texts.push(...(await chunkDocument(parsed, settings, (t) => embedder.countTokens(t), false)).map((c) => c.text));
    }
    await embedder.embed(texts.slice(0, config.EMBED_BATCH_SIZE));
    const rawBeforeSeconds = await rawEmbedSeconds(texts, embedder, config.EMBED_BATCH_SIZE);

    // Pipeline: everything uploaded at once, clock stops when the last document is ready.
    const started = performance.now();
    const statuses = await ingestCorpus(api, documents);
    const pipelineSeconds = (performance.now() - started) / 1000;
    const failed = statuses.filter((d) => d.stage !== 'ready');
    if (failed.length > 0) throw new Error(`${failed.length} documents failed: ${JSON.stringify(failed[0].error)}`);
    const pipelineChunks = statuses.reduce((sum, d) => sum + d.chunkCount, 0);
    if (texts.length !== pipelineChunks) throw new Error(`raw runs embed ${texts.length} chunks, the pipeline indexed ${pipelineChunks}`);
    const activitySeconds = await timeInActivities(stack, statuses.map((d) => d.versions[0].workflowId as string));

    const rawAfterSeconds = await rawEmbedSeconds(texts, embedder, config.EMBED_BATCH_SIZE);
    // The faster raw run is the reference: the ratio errs against the pipeline, never for it.
    const rawSeconds = Math.min(rawBeforeSeconds, rawAfterSeconds);

    const result = {
      documents: documents.length,
      pages: totalPages,
      chunks: pipelineChunks,
      pipelineSeconds: round(pipelineSeconds),
      pipelinePagesPerSecond: round(totalPages / pipelineSeconds),
      pipelineChunksPerSecond: round(pipelineChunks / pipelineSeconds),
      rawEmbedSecondsBefore: round(rawBeforeSeconds),
      rawEmbedSecondsAfter: round(rawAfterSeconds),
      rawChunksPerSecond: round(texts.length / rawSeconds),
      pipelineToRawRatio: round(rawSeconds / pipelineSeconds, 3),
      peakRssMiB: Math.round(peak.stop() / 2 ** 20),
      embedBatchSize: config.EMBED_BATCH_SIZE,
      embeddingThreads: config.EMBEDDING_THREADS,
      chunkSizeTokens: settings.chunkSizeTokens,
    };
    console.table(result);
    console.log('seconds spent in each activity, summed over documents (from the workflow histories):');
    console.table(activitySeconds);
    console.log(`pipeline keeps ${(result.pipelineToRawRatio * 100).toFixed(1)}% of raw embedding throughput (target: at least 85%)`);
    console.log(JSON.stringify(result));
  } finally {
    await stack.close();
  }
}

/** Uploads every document at once into collection `bench` and waits until each is ready or failed. */
export async function ingestCorpus(api: ReturnType<typeof apiClient>, documents: { bytes: Uint8Array }[]): Promise<any[]> {
  const ids = await Promise.all(
    documents.map(async (doc, i) => {
      const response = await api.upload('bench', { bytes: doc.bytes, filename: `bench-${i}.pdf`, type: 'application/pdf' }, { documentId: `bench-${i}` });
      if (response.status !== 202) throw new Error(`upload ${i} answered ${response.status}: ${JSON.stringify(response.body)}`);
      return response.body.documentId as string;
    }),
  );
  return waitFor(
    'every document to be ready',
    () => Promise.all(ids.map(async (id) => (await api.get(`/v1/documents/${id}`)).body)),
    (docs) => docs.every((d) => d.stage === 'ready' || d.stage === 'failed'),
    3_600_000,
    250,
  );
}

/** Real PDF pages recombined into documents of 20-40 pages; each document's bytes differ. */
export async function buildCorpus(targetPages: number): Promise<{ bytes: Uint8Array; pages: number }[]> {
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

/** Raw model throughput: the same batches, one after another, nothing else running. */
async function rawEmbedSeconds(texts: string[], embedder: Embedder, batchSize: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < texts.length; i += batchSize) await embedder.embed(texts.slice(i, i + batchSize));
  return (performance.now() - started) / 1000;
}

/** Sums started→completed time per activity type over the runs' histories. */
async function timeInActivities(stack: Stack, workflowIds: string[]): Promise<Record<string, number>> {
  const totals: Record<string, number> = {};
  for (const workflowId of workflowIds) {
    const events = (await stack.env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
    const typeOf = new Map<string, string>();
    const startedAt = new Map<string, number>();
    const millis = (e: { eventTime?: { seconds?: unknown; nanos?: number | null } | null }) => Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);
    for (const event of events) {
      const scheduled = event.activityTaskScheduledEventAttributes;
      if (scheduled) typeOf.set(String(event.eventId), scheduled.activityType!.name!);
      const started = event.activityTaskStartedEventAttributes;
      if (started) startedAt.set(String(started.scheduledEventId), millis(event));
      const completed = event.activityTaskCompletedEventAttributes;
      if (completed) {
        const id = String(completed.scheduledEventId);
        const type = typeOf.get(id) as string;
        totals[type] = round((totals[type] ?? 0) + (millis(event) - (startedAt.get(id) ?? millis(event))) / 1000);
      }
    }
  }
  return totals;
}

export function trackPeakRss(): { stop(): number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 100);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.resourceUsage().maxRSS * 1024);
    },
  };
}

export const round = (value: number, digits = 2) => Number(value.toFixed(digits));
