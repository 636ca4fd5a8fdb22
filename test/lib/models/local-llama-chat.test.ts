import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { MODEL_ANSWER_JSON_SCHEMA, modelAnswerSchema } from '../../../lib/answer/model-answer';
import { loadConfig } from '../../../lib/config';
import { LocalLlamaChatProvider } from '../../../lib/models/local-llama-chat';
import { ProviderError } from '../../../lib/models/provider-error';

const modelPath = loadConfig({ ...process.env, LOCAL_CHAT_MODEL: 'smollm2' }).chatModels[0]?.modelPath ?? '';
const skip = existsSync(modelPath) ? false : `the local chat model is not installed at ${modelPath} (scripts/setup.sh installs it unless SKIP_LOCAL_CHAT_MODEL=1)`;

describe('LocalLlamaChatProvider (SmolLM2-135M through node-llama-cpp)', { skip }, () => {
  const provider = new LocalLlamaChatProvider({ name: 'local', model: 'smollm2', modelPath, contextTokens: 1024, threads: 2 });
  after(() => provider.close());

  it('generates a reply in the answer JSON shape its grammar enforces, streaming it as it goes', async () => {
    const deltas: string[] = [];
    const result = await provider.chat({
      messages: [
        { role: 'system', content: 'Answer from the sources in JSON.' },
        { role: 'user', content: 'Sources:\n[1] Customers may return any item within thirty days for a full refund.\n\nQuestion: How long do I have to return an item?' },
      ],
      maxTokens: 200,
      jsonSchema: MODEL_ANSWER_JSON_SCHEMA,
      onText: (delta) => deltas.push(delta),
    });
    assert.equal(deltas.join(''), result.text);
    assert.ok(result.usage.inputTokens > 20 && result.usage.outputTokens > 5, JSON.stringify(result.usage));
    // The grammar guarantees the shape, not the truth, and a reply cut off by the token limit stays
    // incomplete; whatever is complete must parse as the answer schema.
    assert.match(result.text, /^\s*\{\s*"found"\s*:\s*(true|false)\s*,\s*"citations"\s*:\s*\[/, result.text);
    const complete = (() => {
      try {
        return JSON.parse(result.text) as unknown;
      } catch {
        return undefined;
      }
    })();
    if (complete !== undefined) assert.ok(modelAnswerSchema.safeParse(complete).success, result.text);
  });

  it('refuses a prompt its context window cannot hold, as a context-window error', async () => {
    const error = await provider.chat({ messages: [{ role: 'user', content: 'word '.repeat(1200) }], maxTokens: 100 }).catch((e: unknown) => e);
    assert.ok(ProviderError.isInstance(error));
    assert.equal(error.kind, 'context_window');
  });
});
