import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PromptRegistry } from '../../../lib/prompts/prompt-registry';
import { migrate } from '../../../lib/stores/migrations';
import { PromptStore } from '../../../lib/stores/prompt-store';
import { openEmbeddedPostgres, type SqlDatabase } from '../../../lib/stores/sql';

/** The registry over the embedded database: seeding from prompt files, labels, and immutable versions. */
describe('prompt registry', () => {
  let dir: string;
  let db: SqlDatabase;
  let prompts: PromptRegistry;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'prompts-'));
    mkdirSync(join(dir, 'files', 'p'), { recursive: true });
    writeFileSync(join(dir, 'files', 'p', 'v1.md'), '## system\nBe brief.\n');
    writeFileSync(join(dir, 'files', 'p', 'v2.md'), '## system\nBe very brief.\n');
    db = await openEmbeddedPostgres(join(dir, 'db'));
    await migrate(db);
    prompts = new PromptRegistry(new PromptStore(db), join(dir, 'files'));
  });
  after(async () => {
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('seeds each file once, in order, with the production label where the configuration says', async () => {
    await prompts.seed({ p: 'v1' });
    await prompts.seed({ p: 'v2' });
    const versions = await prompts.store.versions('p');
    assert.deepEqual(versions.map((v) => [v.version, v.author]), [[1, 'repo'], [2, 'repo']]);
    assert.deepEqual(await prompts.resolve('p', 'production'), { name: 'p', version: 1, label: 'production' }, 'a second start never moves a label that exists');
    assert.equal((await prompts.template('p', 2)).parts.system, 'Be very brief.');
    assert.equal(await prompts.resolve('p', 'canary'), null);
  });

  it('keeps the same text as one version, and numbers new text after the last', async () => {
    const again = await prompts.store.addVersion('p', '## system\nBe brief.\n', (await prompts.template('p', 1)).contentHash, 'key_000000000001', null);
    assert.deepEqual([again.created, again.version.version], [false, 1]);
    const added = await Promise.all(['A', 'B'].map((t) => prompts.store.addVersion('p', `## system\n${t}\n`, t, 'key_000000000001', null)));
    assert.deepEqual(added.map((a) => a.version.version).sort(), [3, 4], 'two writers at once get distinct numbers');
  });

  it('records each move of a label with where it came from', async () => {
    const moved = await prompts.store.moveLabel('p', 'production', 2, { kind: 'move', actor: 'key_000000000001', reason: 'briefer' });
    assert.deepEqual([moved?.fromVersion, moved?.toVersion], [1, 2]);
    assert.equal((await prompts.resolve('p', 'production'))?.version, 2, 'the next resolution sees the move');
    const history = await prompts.store.history('p', 'production');
    assert.deepEqual(history.map((m) => [m.kind, m.fromVersion, m.toVersion]), [['move', 1, 2], ['seed', null, 1]]);
  });
});
