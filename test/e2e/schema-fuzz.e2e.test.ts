import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cacheRoot } from '../../lib/config';
import { ingestPolicies, startStack, type Stack } from '../helpers/stack';

const SCHEMATHESIS = join(cacheRoot(), 'schemathesis-venv', 'bin', 'schemathesis');
const FUZZ_SECONDS = Number(process.env.FUZZ_SECONDS ?? 90);

/**
 * Schemathesis (from PyPI, installed by setup for the tests) generates requests from the served
 * OpenAPI document, bounded in time: no answer may be a 5xx, or a status or content type the
 * document does not declare, or a body its schema does not describe.
 */
describe('the API against its own OpenAPI document', { skip: existsSync(SCHEMATHESIS) ? undefined : `schemathesis is not installed at ${SCHEMATHESIS} (scripts/setup.sh installs it for npm test)` }, () => {
  let stack: Stack;
  const scratch = mkdtempSync(join(tmpdir(), 'rag-fuzz-'));
  before(async () => {
    stack = await startStack({ RATE_LIMITS: 'off' });
    await ingestPolicies(stack.api);
  });
  after(async () => {
    await stack?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it(`finds no 5xx and no undeclared status, content type or body in ${FUZZ_SECONDS} s`, async () => {
    const args = [
      'run', `${stack.baseUrl}/docs/json`,
      '--header', `Authorization: Bearer ${stack.apiKey}`,
      '--checks', 'not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance',
      '--max-time', String(FUZZ_SECONDS), '--max-examples', '25', '--seed', '1', '--workers', '1', '--request-timeout', '30',
      '--suppress-health-check', 'all', '--no-color',
    ];
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      // Its working files (.schemathesis/) go to a scratch directory, not into the checkout.
      const child = spawn(SCHEMATHESIS, args, { cwd: scratch, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (chunk) => (output += chunk));
      child.stderr.on('data', (chunk) => (output += chunk));
      child.on('exit', (code) => resolve({ code, output }));
    });
    if (process.env.FUZZ_LOG) console.log(output.slice(-6000));
    assert.equal(code, 0, output.slice(-12_000));
  });
});
