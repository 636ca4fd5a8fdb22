import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chatModelConfig, costUsd, route } from '../../../lib/models/router';

const models = [
  chatModelConfig.parse({ name: 'big', kind: 'openai', model: 'gpt-x', contextTokens: 128_000, costPerMillionInputUsd: 2.5, costPerMillionOutputUsd: 10, typicalLatencyMs: 1800 }),
  chatModelConfig.parse({ name: 'claude', kind: 'anthropic', model: 'claude-x', contextTokens: 200_000, costPerMillionInputUsd: 0.8, costPerMillionOutputUsd: 4, typicalLatencyMs: 900 }),
  chatModelConfig.parse({ name: 'small', kind: 'local', model: 'smol', modelPath: '/m.gguf', contextTokens: 4096, maxOutputTokens: 300, typicalLatencyMs: 5000 }),
];

describe('router', () => {
  it('orders candidates as configured, by cost or by latency', () => {
    assert.deepEqual(route(models, 'answer', 1000, 'configured').candidates, ['big', 'claude', 'small']);
    assert.deepEqual(route(models, 'answer', 1000, 'cheapest').candidates, ['small', 'claude', 'big']);
    assert.deepEqual(route(models, 'answer', 1000, 'fastest').candidates, ['claude', 'big', 'small']);
  });

  it('leaves out a model whose context window cannot take the prompt, and says so', () => {
    const result = route(models, 'answer', 3900, 'configured');
    assert.deepEqual(result.candidates, ['big', 'claude']);
    assert.deepEqual(result.skipped, ['small: about 3900 input tokens exceed its context window of 4096']);
  });

  it("puts an experiment's preferred model first, unless it cannot take the prompt", () => {
    assert.deepEqual(route(models, 'answer', 1000, 'fastest', 'small').candidates, ['small', 'claude', 'big']);
    assert.deepEqual(route(models, 'answer', 3900, 'configured', 'small').candidates, ['big', 'claude']);
    assert.deepEqual(route(models, 'answer', 1000, 'configured', 'unknown').candidates, ['big', 'claude', 'small']);
  });

  it('prices calls per million tokens', () => {
    assert.equal(costUsd(models[0] as never, 1_000_000, 100_000), 3.5);
  });
});
