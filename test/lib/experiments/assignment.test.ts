import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assignVariant } from '../../../lib/experiments/assignment';

const variants = [
  { name: 'control', weight: 50 },
  { name: 'canary', weight: 50 },
];

describe('experiment assignment', () => {
  it('gives a subject the same variant every time', () => {
    for (let i = 0; i < 50; i++) assert.equal(assignVariant('exp-1', `user-${i}`, variants).name, assignVariant('exp-1', `user-${i}`, variants).name);
  });

  it('splits subjects by the weights', () => {
    const counts = { control: 0, canary: 0, rare: 0 };
    const weighted = [{ name: 'control', weight: 70 }, { name: 'canary', weight: 25 }, { name: 'rare', weight: 5 }];
    for (let i = 0; i < 20_000; i++) counts[assignVariant('exp-1', `user-${i}`, weighted).name as keyof typeof counts] += 1;
    // Binomial standard deviation at 20,000 draws is at most 0.35 points: 1.5 points is over 4 of them.
    assert.ok(Math.abs(counts.control / 200 - 70) < 1.5, JSON.stringify(counts));
    assert.ok(Math.abs(counts.canary / 200 - 25) < 1.5, JSON.stringify(counts));
    assert.ok(Math.abs(counts.rare / 200 - 5) < 1.5, JSON.stringify(counts));
  });

  it('never assigns a variant of weight 0, and shuffles subjects afresh in another experiment', () => {
    const off = [{ name: 'all', weight: 100 }, { name: 'none', weight: 0 }];
    for (let i = 0; i < 1000; i++) assert.equal(assignVariant('exp-1', `user-${i}`, off).name, 'all');
    let moved = 0;
    for (let i = 0; i < 1000; i++) if (assignVariant('exp-1', `user-${i}`, variants).name !== assignVariant('exp-2', `user-${i}`, variants).name) moved += 1;
    assert.ok(moved > 400 && moved < 600, `${moved} of 1000 subjects changed variant`);
  });
});
