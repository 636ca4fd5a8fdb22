import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import semver from 'semver';

/**
 * The README states the Node.js version and names the dependencies that declare a newer one; this
 * keeps the statement true as dependencies change (the suite itself runs on the older Node).
 */
describe('the Node.js version the README states', () => {
  it('agrees with what the runtime dependencies declare, exceptions named', () => {
    const readme = readFileSync('README.md', 'utf8');
    const stated = /Node\.js ≥ (\d+\.\d+)/.exec(readme)?.[1];
    assert.ok(stated, 'the README states a minimum Node.js version');
    const exceptions = /dependencies declare\s+Node\.js \d+ \(([^)]*)\)/.exec(readme)?.[1]?.match(/`([^`]+)`/g)?.map((name) => name.slice(1, -1)) ?? [];
    const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, { engines?: { node?: string }; dev?: boolean }> };
    const stricter = Object.entries(lock.packages)
      .filter(([path, meta]) => path && !meta.dev && meta.engines?.node && !semver.satisfies(`${stated}.0`, meta.engines.node))
      .map(([path]) => path.replace(/^.*node_modules\//, ''))
      .sort();
    assert.deepEqual(stricter, exceptions.sort(), 'update the README line that names them');
    assert.ok(semver.gte(process.version, `${stated}.0`), `this Node.js (${process.version}) is one the README allows`);
  });
});
