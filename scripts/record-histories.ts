import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { realPdfs } from '../test/helpers/fixtures';
import { shippedPromptWith } from '../test/helpers/prompts';
import { startStack } from '../test/helpers/stack';
import { temporalBinary, waitFor } from '../test/helpers/temporal';

/**
 * Records workflow histories for the replay test (test/workflows/replay.test.ts).
 * Run it when a workflow changes on purpose, behind patched(): the old histories stay, new ones join.
 *   node --import tsx scripts/record-histories.ts <label> [kind,kind]
 * Naming kinds (e.g. `evaluate`) writes only those: a workflow new to the replay set joins
 * without re-recording the others.
 */
async function main(): Promise<void> {
  const label = process.argv[2] ?? 'v1';
  const only = process.argv[3]?.split(',');
  // Plain payloads: the replay test reads them without the keys of this throwaway stack.
  const stack = await startStack({ PAYLOAD_ENCRYPTION: 'off' });
  try {
    const api = stack.api;
    const runs = {
      ready: await api.postJson('/v1/collections/replay/documents', { text: '# Replay\n\nA short document that becomes ready.', mediaType: 'text/markdown', documentId: 'replay-ready' }),
      failed: await api.upload('replay', { bytes: realPdfs.corrupt(), filename: 'broken.pdf', type: 'application/pdf' }, { documentId: 'replay-failed' }),
    };
    await waitFor('the ready run', () => stack.env.client.workflow.getHandle(runs.ready.body.workflowId).describe(), (d) => d.status.name !== 'RUNNING', 60_000);
    const query = await api.postJson('/v1/query', { collection: 'replay', question: 'which document becomes ready?', mode: 'retrieve' });
    const answer = await api.postJson('/v1/query', { collection: 'replay', question: 'which document becomes ready?' });
    const reindex = await api.postJson('/v1/collections/replay/reindex', { chunkSizeTokens: 64, chunkOverlapTokens: 8 });
    const evaluate = await promotion(stack);
    const recorded = {
      ...runs,
      retrieve: { body: { workflowId: query.body.workflowId as string } },
      answer: { body: { workflowId: answer.body.workflowId as string } },
      reindex: { body: { workflowId: reindex.body.workflowId as string } },
      'reindex-batch': { body: { workflowId: `${reindex.body.workflowId}/batch-0` } },
      evaluate: { body: { workflowId: evaluate } },
    };
    for (const [outcome, response] of Object.entries(recorded)) {
      const client = outcome === 'retrieve' || outcome === 'answer' ? stack.queries : stack.env.client;
      const handle = client.workflow.getHandle(response.body.workflowId);
      await waitFor(`${outcome} run to close`, () => handle.describe(), (d) => d.status.name !== 'RUNNING', 60_000);
      const kind = outcome === 'ready' || outcome === 'failed' ? `ingest-${outcome}` : outcome;
      if (only && !only.includes(kind)) continue;
      const path = join(__dirname, '..', 'test', 'workflows', 'histories', `${kind}-${label}.json`);
      // The CLI writes the canonical JSON history format (what the Temporal UI downloads too).
      const json = execFileSync(temporalBinary(), ['workflow', 'show', '--workflow-id', handle.workflowId, '--output', 'json', '--address', stack.env.address, '--namespace', client.options.namespace], { encoding: 'utf8' });
      writeFileSync(path, json.trimEnd() + '\n');
      console.log(`recorded ${path}`);
    }
  } finally {
    await stack.close();
  }
}

/** A prompt promotion on a label of its own: an evaluateWorkflow run over an answerable and an unanswerable question. */
async function promotion(stack: Awaited<ReturnType<typeof startStack>>): Promise<string> {
  const questions = [
    { question: 'which document becomes ready?', relevantDocumentIds: ['replay-ready'] },
    { question: 'What is the dress code for the gala?', relevantDocumentIds: [] },
  ];
  await stack.api.putJson('/v1/collections/replay/eval-set', { questions });
  const created = await stack.operator.postJson('/v1/prompts/grounded-answer/versions', { content: shippedPromptWith('Be brief.') });
  await stack.operator.putJson('/v1/prompts/grounded-answer/labels/replay', { version: 1 });
  const promoted = await stack.operator.postJson('/v1/prompts/grounded-answer/labels/replay/promotions', { version: created.body.version, evalSet: { tenantId: 'default', collection: 'replay' } });
  const workflowId = promoted.body.workflowId ?? promoted.body.error?.details?.workflowId;
  if (!workflowId) throw new Error(`the promotion answered ${promoted.status}: ${JSON.stringify(promoted.body)}`);
  return workflowId as string;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
