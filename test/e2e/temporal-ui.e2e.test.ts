import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { freePort } from '../helpers/net';
import { useCodecServer } from '../helpers/codec-browser';
import { ingestPolicies, startStack, TEST_OPERATOR_KEY, type Stack } from '../helpers/stack';
import { waitFor } from '../helpers/temporal';

/** Debian's chromium package (scripts/setup.sh installs it as root); CHROMIUM_PATH points elsewhere. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = resolve(__dirname, '../../test-artifacts/temporal-ui');
const skip = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (scripts/setup.sh installs Debian's chromium when run as root; or set CHROMIUM_PATH)`;

/**
 * An operator's view: the Temporal UI served by the dev server, driven by headless Chromium.
 * Filters the workflow list by the RagCollection search attribute, finds the re-index run (and
 * not another collection's), opens it, and saves screenshots as test artifacts.
 */
describe('Temporal UI: find a collection\'s re-index runs by search attribute', { skip }, () => {
  let stack: Stack;
  let browser: Browser;
  let uiUrl: string;

  before(async () => {
    const uiPort = await freePort();
    uiUrl = `http://127.0.0.1:${uiPort}`;
    stack = await startStack({ TEMPORAL_UI_URL: uiUrl }, { temporalUiPort: uiPort });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('lists the re-index run of one collection, with its summary', async () => {
    const api = stack.api;
    await ingestPolicies(api, 'policies');
    const handbook = await api.postJson('/v1/collections/handbook/documents', { text: '# Onboarding\n\nNew staff get a laptop on day one.', mediaType: 'text/markdown', documentId: 'onboarding' });
    assert.equal(handbook.status, 202);
    await waitFor('onboarding ready', async () => (await api.get('/v1/documents/onboarding')).body, (d) => d.stage === 'ready');
    const finished = async (collection: string) => {
      const started = await api.postJson(`/v1/collections/${collection}/reindex`, { chunkSizeTokens: 64, chunkOverlapTokens: 8 });
      assert.equal(started.status, 202, JSON.stringify(started.body));
      return waitFor(`${collection} re-indexed`, async () => (await api.get(`/v1/collections/${collection}/reindex/${started.body.id}`)).body, (r) => r.stage === 'done', 120_000);
    };
    const run = await finished('policies');
    const other = await finished('handbook');
    // A second run of the collection, held paused so the UI shows a live one's progress.
    const held = await api.postJson('/v1/collections/policies/reindex', { chunkSizeTokens: 100, chunkOverlapTokens: 10 });
    assert.equal((await api.postJson(`/v1/collections/policies/reindex/${held.body.id}/pause`, {})).status, 202);
    await waitFor('the second run paused', async () => (await api.get(`/v1/collections/policies/reindex/${held.body.id}`)).body, (r) => r.stage === 'paused', 60_000);

    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    // Summaries and details are payloads, encrypted like the rest: the operator reads them through the codec server.
    await useCodecServer(page, { uiUrl, apiUrl: stack.baseUrl, operatorKey: TEST_OPERATOR_KEY });
    await page.goto(`${uiUrl}/namespaces/default/workflows`);
    await page.getByTestId('toggle-manual-query').click();
    await page.getByTestId('manual-search-input').fill('RagCollection = "policies" AND WorkflowType = "reindexCollectionWorkflow"');
    await page.getByTestId('manual-search-input').press('Enter');
    // Visibility is eventually consistent: search again until the run is listed.
    await waitFor(
      'the run in the filtered list',
      async () => {
        await page.waitForTimeout(500);
        const listed = async () => (await page.getByText(run.workflowId).count()) * (await page.getByText(held.body.workflowId).count());
        if (!(await listed())) await page.getByTestId('manual-search-input').press('Enter');
        return listed();
      },
      (count) => count > 0,
      30_000,
      0,
    );
    assert.equal(await page.getByText(other.workflowId).count(), 0, "another collection's run is filtered out");
    assert.match(new URL(page.url()).searchParams.get('query') ?? '', /RagCollection = "policies"/, 'the filter is in the URL an operator can share');
    await page.screenshot({ path: join(ARTIFACTS, 'reindex-runs-filtered-by-collection.png'), fullPage: true });

    // The running one: its summary, and its current details (stage and counts) as the workflow reports them.
    await page.getByText(held.body.workflowId).first().click();
    await page.waitForURL((url) => url.pathname.includes(encodeURIComponent(held.body.workflowId)) || url.pathname.includes(held.body.workflowId));
    await page.getByText('User Metadata', { exact: true }).first().click();
    // The UI renders summaries and details as Markdown in sandboxed frames.
    const shown = (text: string) =>
      waitFor(`"${text}" on the page`, async () => (await Promise.all(page.frames().map((frame) => frame.content().catch(() => '')))).some((html) => html.includes(text)), Boolean, 30_000, 250);
    await shown('Re-index policies: g2 → g3');
    await shown('stage: paused');
    await shown('documents: 0/3');
    await page.screenshot({ path: join(ARTIFACTS, 'paused-reindex-run-details.png'), fullPage: true });
    assert.ok(existsSync(join(ARTIFACTS, 'paused-reindex-run-details.png')));
    assert.equal((await api.delete(`/v1/collections/policies/reindex/${held.body.id}`)).status, 202);
  });
});
