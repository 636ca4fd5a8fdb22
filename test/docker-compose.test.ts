import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';

const ROOT = resolve(__dirname, '..');

/** Docker Compose as a Docker plugin, or standalone (scripts/setup.sh installs Debian's). */
function composeCommand(): string[] | undefined {
  if (spawnSync('docker', ['compose', 'version']).status === 0) return ['docker', 'compose'];
  if (spawnSync('docker-compose', ['version']).status === 0) return ['docker-compose'];
  return undefined;
}

const compose = composeCommand();

describe('docker-compose.yml', { skip: compose ? undefined : 'no Docker Compose here (neither `docker compose` nor `docker-compose`; scripts/setup.sh installs Debian\'s as root)' }, () => {
  const run = (...args: string[]) =>
    execFileSync(compose![0]!, [...compose!.slice(1), '-f', join(ROOT, 'docker-compose.yml'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, BOOTSTRAP_ADMIN_KEY: 'k'.repeat(32), GRAFANA_ADMIN_PASSWORD: 'g'.repeat(16) } });

  it('validates with `docker compose config`, and refuses to start without an operator key', () => {
    run('config', '--quiet');
    const { BOOTSTRAP_ADMIN_KEY: _unset, ...withoutKey } = process.env;
    const refused = spawnSync(compose![0]!, [...compose!.slice(1), '-f', join(ROOT, 'docker-compose.yml'), 'config', '--quiet'], { cwd: ROOT, encoding: 'utf8', env: { ...withoutKey, GRAFANA_ADMIN_PASSWORD: 'g'.repeat(16) } });
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /BOOTSTRAP_ADMIN_KEY/);
  });

  it('describes the production-shaped stack, every long-running service with a health check', () => {
    const config = parse(run('config')) as { services: Record<string, any> };
    assert.deepEqual(Object.keys(config.services).sort(), ['api', 'grafana', 'jaeger', 'postgresql', 'prometheus', 'qdrant', 'redis', 'temporal', 'temporal-namespaces', 'temporal-ui', 'worker']);
    for (const [name, service] of Object.entries(config.services)) {
      if (service.restart === 'no') continue; // a one-shot job: the services that need it wait for it to finish
      assert.ok(service.healthcheck?.test, `${name} has a health check`);
    }
    assert.equal(config.services.temporal.environment.DB, 'postgres12', 'Temporal persists to Postgres');
    for (const name of ['api', 'worker']) {
      const env = config.services[name].environment;
      assert.equal(env.VECTOR_STORE, 'qdrant');
      assert.match(env.DATABASE_URL, /^postgres:\/\/.*@postgresql:5432\//);
      assert.equal(env.TEMPORAL_ADDRESS, 'temporal:7233');
      assert.equal(env.REDIS_URL, 'redis://redis:6379', 'limits, budgets and caches shared by every instance');
      assert.equal(config.services[name].depends_on.temporal.condition, 'service_healthy');
      assert.equal(config.services[name].depends_on['temporal-namespaces'].condition, 'service_completed_successfully', 'runs start in created namespaces, with registered search attributes');
      assert.deepEqual([env.TEMPORAL_NAMESPACE, env.TEMPORAL_QUERY_NAMESPACE], ['default', 'rag-queries'], 'queries apart from the durable runs');
      assert.equal(String(env.METRICS_PORT), '9464', 'Prometheus scrapes both (ops/prometheus/prometheus.yml)');
      assert.equal(env.OTEL_EXPORTER_OTLP_ENDPOINT, 'http://jaeger:4318');
    }
    assert.equal(String(config.services.worker.environment.TEMPORAL_METRICS_PORT), '9465');
    const namespaces = [config.services['temporal-namespaces'].command].flat().join(' ');
    assert.match(namespaces, /namespace create .*--namespace rag-queries --retention 24h/, 'query runs are kept one day');
    assert.match(namespaces, /namespace update .*--namespace default --retention 720h/, 'durable runs 30 days');
    const redisArgs = [config.services.redis.command].flat().join(' ');
    assert.match(redisArgs, /--maxmemory \S+ --maxmemory-policy volatile-lru/, 'the caches are bounded in Redis by its eviction');
    // Compose v2 writes mounts as objects, v1 (Debian's docker-compose) as `source:target:mode`.
    const mounts = (name: string) => config.services[name].volumes.map((volume: string | { target: string }) => (typeof volume === 'string' ? volume.split(':')[1] : volume.target));
    const dynamicConfig = config.services.temporal.environment.DYNAMIC_CONFIG_FILE_PATH;
    assert.ok(mounts('temporal').includes(dynamicConfig), 'the dynamic config file is mounted where the server reads it');
    assert.deepEqual(parse(readFileSync(join(ROOT, 'ops/temporal/dynamic-config.yaml'), 'utf8'))['matching.enableFairness'], [{ value: true }], 'fairness by tenant is on');
    assert.ok(mounts('prometheus').includes('/etc/prometheus/rules'));
    assert.ok(mounts('grafana').includes('/etc/grafana/provisioning') && mounts('grafana').includes('/var/lib/grafana/dashboards'));
  });
});
