import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LOCAL_CHAT_MODELS, loadConfig } from '../../lib/config';

describe('configuration', () => {
  it('routes to every local chat model setup can install, under a valid provider name', () => {
    for (const id of Object.keys(LOCAL_CHAT_MODELS)) {
      const [model] = loadConfig({ ...process.env, LOCAL_CHAT_MODEL: id }).chatModels;
      assert.equal(model?.kind, 'local', id);
      assert.ok(model?.modelPath?.endsWith('.gguf'), id);
    }
    assert.deepEqual(loadConfig({ ...process.env, LOCAL_CHAT_MODEL: 'off' }).chatModels, []);
  });

  it('refuses an unknown model and a relevance floor outside 0..1, naming the variable', () => {
    assert.throws(() => loadConfig({ ...process.env, LOCAL_CHAT_MODEL: 'gpt-5' }), /LOCAL_CHAT_MODEL/);
    assert.throws(() => loadConfig({ ...process.env, RELEVANCE_FLOOR: '1.5' }), /RELEVANCE_FLOOR/);
  });
});
