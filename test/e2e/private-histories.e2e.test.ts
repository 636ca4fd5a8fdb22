import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium } from 'playwright-core';
import { signInToCodecServer, useCodecServer } from '../helpers/codec-browser';
import { freePort } from '../helpers/net';
import { POLICIES, realPdfs } from '../helpers/fixtures';
import { ingestPolicies, startStack, TEST_OPERATOR_KEY, type Stack } from '../helpers/stack';
import { historyText, waitFor } from '../helpers/temporal';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = resolve(__dirname, '../../test-artifacts/temporal-ui');
const QUESTION = 'Within how many days may customers return an item for a refund?';
/** Sentences of the ingested documents: none may reach the Temporal server in plaintext. */
const SENTENCES = Object.values(POLICIES).flatMap((p) => p.text.split(/(?<=\.)\s+|\n+/).filter((s) => s.length > 30 && !s.startsWith('#')));

/**
 * Payload encryption against the real Temporal server: histories as the server stores them hold
 * neither the question nor any chunk text, and the codec server decrypts them for platform
 * operators only (the CLI with a header, the Temporal UI in a browser with a session cookie).
 */
describe('private histories: encrypted payloads and the codec server', () => {
  let stack: Stack;
  let uiUrl: string;
  let answered: { workflowId: string; runId: string; workflowUrl: string };
  /** As the server stores it: query runs in the query namespace, ingestion in the durable one. */
  const raw = async (workflowId: string, client = stack.queries) => client.workflow.getHandle(workflowId).fetchHistory();
  const codec = (path: string, headers: Record<string, string>, body: unknown = { payloads: [] }) =>
    fetch(`${stack.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  before(async () => {
    const uiPort = await freePort();
    uiUrl = `http://127.0.0.1:${uiPort}`;
    stack = await startStack({ TEMPORAL_UI_URL: uiUrl }, { temporalUiPort: uiPort });
    await ingestPolicies(stack.api, 'policies');
    const response = await stack.api.postJson('/v1/query', { collection: 'policies', question: QUESTION, cache: 'off' });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body.found, true, 'the answer is there for an operator to decode');
    answered = response.body;
  });
  after(async () => stack?.close());

  it('stores no question, chunk or answer text in the query and ingestion histories', async () => {
    const query = await historyText(await raw(answered.workflowId));
    assert.ok(query.includes('binary/encrypted'), 'payloads are marked encrypted');
    assert.ok(!query.includes(QUESTION) && !query.includes('customers return'), 'no question text');
    for (const sentence of SENTENCES) assert.ok(!query.includes(sentence.slice(0, 40)), `no chunk text: ${sentence.slice(0, 40)}`);
    const document = (await stack.api.get('/v1/documents/refunds')).body;
    const ingest = await historyText(await raw(document.versions[0].workflowId, stack.env.client));
    assert.ok(!ingest.includes('thirty days of delivery') && !ingest.includes('Refund policy'), 'no document text in the ingestion history');
    // The same history through the platform's codec: the question is there, so the check above could fail.
    assert.ok((await historyText(await raw(answered.workflowId), stack.platform.payloads.codec)).includes(QUESTION));
  });

  it('encrypts failure messages and stack traces too, and the codec decodes them', async () => {
    const upload = await stack.api.upload('policies', { bytes: realPdfs.corrupt(), filename: 'broken.pdf', type: 'application/pdf' }, { documentId: 'broken' });
    assert.equal(upload.status, 202, JSON.stringify(upload.body));
    await waitFor('the corrupt upload to fail', async () => (await stack.api.get('/v1/documents/broken')).body.stage, (stage) => stage === 'failed', 120_000, 200);
    const history = await raw(upload.body.workflowId, stack.env.client);
    const failure = history.events!.find((e) => e.activityTaskFailedEventAttributes)?.activityTaskFailedEventAttributes?.failure;
    assert.ok(failure, 'parseDocument failed');
    assert.equal(failure.applicationFailureInfo?.type, 'pdf_corrupt', 'the failure type, an error code, stays readable');
    assert.equal(failure.message, 'Encoded failure', 'the message is in the encrypted attributes');
    assert.equal(failure.stackTrace, '');
    const stored = await historyText(history);
    const decoded = await historyText(history, stack.platform.payloads.codec);
    const attributes = JSON.parse(/"encodedAttributes":\{"metadata":\{[^}]*\},"data":("(?:[^"\\]|\\.)*")/.exec(decoded)![1]!);
    const { message, stack_trace: trace } = JSON.parse(attributes) as { message: string; stack_trace: string };
    assert.ok(message.length > 0 && !stored.includes(message), `the message "${message}" is there once decoded, and only then`);
    const frame = trace.split('\n').find((line) => line.trim().startsWith('at '))?.trim();
    assert.ok(frame && !stored.includes(frame), `so is the stack trace (${frame}), which the stored history does not hold`);
  });

  it('decodes for platform operators only, and answers the Temporal UI\'s preflight', async () => {
    const history = JSON.parse(JSON.stringify(await raw(answered.workflowId)));
    const input = history.events[0].workflowExecutionStartedEventAttributes.input;
    const decoded = await codec('/codec/decode', { authorization: `Bearer ${TEST_OPERATOR_KEY}`, 'x-namespace': 'rag-queries' }, input);
    assert.equal(decoded.status, 200);
    const body = (await decoded.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    assert.equal(Buffer.from(body.payloads[0]!.metadata.encoding!, 'base64').toString(), 'json/plain');
    assert.ok(Buffer.from(body.payloads[0]!.data, 'base64').toString().includes(QUESTION));

    assert.equal((await codec('/codec/decode', {}, input)).status, 401, 'no key');
    const tenantAdmin = await codec('/codec/decode', { authorization: `Bearer ${stack.apiKey}` }, input);
    assert.equal(tenantAdmin.status, 403, "a tenant's admin cannot read every tenant's histories");
    assert.equal(((await tenantAdmin.json()) as { error: { code: string } }).error.code, 'operator_only');
    const garbage = await codec('/codec/decode', { authorization: `Bearer ${TEST_OPERATOR_KEY}` }, { payloads: [{ metadata: { encoding: Buffer.from('binary/encrypted').toString('base64'), 'encryption-key-id': Buffer.from('k-unknown').toString('base64') }, data: 'AAAA' }] });
    assert.equal(garbage.status, 422);
    assert.equal((await codec('/codec/decode', { authorization: `Bearer ${TEST_OPERATOR_KEY}` }, { payloads: 'x' })).status, 400);

    const preflight = (origin: string) =>
      fetch(`${stack.baseUrl}/codec/decode`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' } });
    const ui = await preflight(uiUrl);
    assert.equal(ui.headers.get('access-control-allow-origin'), uiUrl);
    assert.equal(ui.headers.get('access-control-allow-credentials'), 'true');
    assert.equal((await preflight('http://evil.example')).headers.get('access-control-allow-origin'), null, 'no other origin');
  });

  const skip = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (scripts/setup.sh installs Debian's chromium when run as root; or set CHROMIUM_PATH)`;
  it('shows an operator the decrypted question in the Temporal UI, after signing in to the codec server', { skip }, async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
      // The link the answer gives: the run's page in the query namespace.
      const workflowPage = answered.workflowUrl;
      assert.equal(workflowPage, `${uiUrl}/namespaces/rag-queries/workflows/${encodeURIComponent(answered.workflowId)}/${answered.runId}/history`);
      await useCodecServer(page, { uiUrl, apiUrl: stack.baseUrl, operatorKey: TEST_OPERATOR_KEY, signIn: false });

      // Without a session the UI cannot decode: the question is not on the page.
      await page.goto(workflowPage);
      await page.getByText('answerQueryWorkflow').first().waitFor({ timeout: 30_000 });
      await page.waitForLoadState('networkidle');
      assert.ok(!(await page.content()).includes(QUESTION), 'the run is shown, its payloads still encrypted until signed in');

      await signInToCodecServer(page, stack.baseUrl, TEST_OPERATOR_KEY);

      await page.goto(workflowPage);
      await waitFor('the decoded question on the workflow page', async () => (await page.content()).includes(QUESTION), (shown) => shown, 30_000, 500);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'decoded-query-history.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
