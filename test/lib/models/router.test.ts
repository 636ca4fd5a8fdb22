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
    assert.deepEqual(route(models, 'answer', 1000, 'fastest', { preferred: 'small' }).candidates, ['small', 'claude', 'big']);
    assert.deepEqual(route(models, 'answer', 3900, 'configured', { preferred: 'small' }).candidates, ['big', 'claude']);
    assert.deepEqual(route(models, 'answer', 1000, 'configured', { preferred: 'unknown' }).candidates, ['big', 'claude', 'small']);
  });

  it("never routes to a model off the tenant's allow-list, not even a preferred one", () => {
    const result = route(models, 'answer', 1000, 'configured', { allowed: ['claude', 'small'], preferred: 'big' });
    assert.deepEqual(result.candidates, ['claude', 'small']);
    assert.deepEqual(result.skipped, ["big: not on this tenant's allow-list"]);
    assert.deepEqual(route(models, 'answer', 1000, 'configured', { allowed: [] }).candidates, []);
  });

  it('orders by measured latency where there is one, the configured figure elsewhere', () => {
    const measured = new Map([['claude', 4000], ['big', 300]]);
    assert.deepEqual(route(models, 'answer', 1000, 'fastest', { measuredLatencyMs: measured }).candidates, ['big', 'claude', 'small']);
  });

  it('prices calls per million tokens', () => {
    assert.equal(costUsd(models[0] as never, 1_000_000, 100_000), 3.5);
  });
});
