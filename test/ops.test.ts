import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { DASHBOARD_FILE, dashboardJson } from '../scripts/dashboards/build';
import { promtoolPath } from './helpers/prometheus';

const ROOT = resolve(__dirname, '..');
const OPS = join(ROOT, 'ops');
const promtool = promtoolPath();
const noPromtool = promtool ? undefined : "no promtool installed (Debian's prometheus package has it; scripts/setup.sh installs it as root for the tests, SKIP_PROMETHEUS=1 skips it)";
const RULE_FILES = readdirSync(join(OPS, 'prometheus/rules')).map((name) => join(OPS, 'prometheus/rules', name));
const DASHBOARDS = readdirSync(join(OPS, 'grafana/dashboards')).map((name) => join(OPS, 'grafana/dashboards', name));
const dashboard = (file: string) => JSON.parse(readFileSync(file, 'utf8'));
const exprsOf = (file: string): string[] => dashboard(file).panels.flatMap((panel: any) => (panel.targets ?? []).map((target: any) => target.expr));

describe('operations bundle', () => {
  it('has alert and recording rules that promtool accepts, and alerts that fire on their unit-test series', { skip: noPromtool }, () => {
    execFileSync(promtool as string, ['check', 'rules', ...RULE_FILES], { encoding: 'utf8' });
    execFileSync(promtool as string, ['test', 'rules', join(OPS, 'prometheus/rules.test.yml')], { encoding: 'utf8', cwd: join(OPS, 'prometheus') });
  });

  it('has every dashboard query valid PromQL (promtool parses them as recording rules)', { skip: noPromtool }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'dashboard-queries-'));
    try {
      const rules = DASHBOARDS.flatMap(exprsOf).map((expr, i) => ({ record: `dashboard:query_${i}`, expr }));
      assert.ok(rules.length >= 20);
      writeFileSync(join(dir, 'queries.yml'), stringify({ groups: [{ name: 'dashboard', rules }] }));
      execFileSync(promtool as string, ['check', 'rules', join(dir, 'queries.yml')], { encoding: 'utf8' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("has the dashboard as Grafana's Foundation SDK builds it from scripts/dashboards (run `npm run dashboards` after a change)", () => {
    assert.equal(readFileSync(DASHBOARD_FILE, 'utf8'), dashboardJson());
  });

  it("has dashboards in the shape Grafana's file provisioning loads, over the provisioned data source", () => {
    const datasources = parse(readFileSync(join(OPS, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8'));
    assert.equal(datasources.apiVersion, 1);
    const uids = new Set(datasources.datasources.map((source: { uid: string }) => source.uid));
    const providers = parse(readFileSync(join(OPS, 'grafana/provisioning/dashboards/rag-platform.yml'), 'utf8'));
    assert.equal(providers.apiVersion, 1);
    assert.equal(providers.providers[0].type, 'file');
    // The compose file mounts ops/grafana/dashboards where the provider reads.
    assert.match(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), new RegExp(`./ops/grafana/dashboards:${providers.providers[0].options.path}:ro`));
    const seen = new Set<string>();
    for (const file of DASHBOARDS) {
      const board = dashboard(file);
      assert.ok(typeof board.uid === 'string' && /^[a-z0-9-]{1,40}$/.test(board.uid) && !seen.has(board.uid), `${file}: a unique uid`);
      seen.add(board.uid);
      assert.ok(board.title && Number.isInteger(board.schemaVersion) && board.id === undefined, `${file}: title and schemaVersion, no database id`);
      const ids = board.panels.map((panel: { id: number }) => panel.id);
      assert.equal(new Set(ids).size, ids.length, `${file}: panel ids are unique`);
      for (const panel of board.panels.filter((p: { type: string }) => p.type !== 'row')) {
        assert.ok(uids.has(panel.datasource.uid), `${panel.title}: a provisioned data source`);
        assert.ok(panel.targets.length > 0 && panel.targets.every((t: { expr: string; refId: string }) => t.expr && t.refId), `${panel.title}: queries`);
        assert.ok(panel.gridPos.w > 0 && panel.gridPos.h > 0);
      }
      // What the issue asks a dashboard to show.
      const titles = board.panels.map((p: { title: string }) => p.title.toLowerCase()).join(' | ');
      for (const topic of ['latency', 'tokens', 'spend', 'cache', 'breaker', 'ingested', 'backlog', 'not-found']) assert.ok(titles.includes(topic), `a panel on ${topic}`);
    }
  });

  it('links every alert to a runbook section that exists', () => {
    const runbooks = readFileSync(join(ROOT, 'docs/runbooks.md'), 'utf8');
    const anchors = new Set([...runbooks.matchAll(/^## (.+)$/gm)].map((m) => (m[1] as string).toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')));
    const alerts = RULE_FILES.flatMap((file) => parse(readFileSync(file, 'utf8')).groups.flatMap((group: { rules: any[] }) => group.rules.filter((rule) => rule.alert)));
    assert.ok(alerts.length >= 4);
    for (const alert of alerts) {
      const [page, anchor] = String(alert.annotations.runbook_url).split('#');
      assert.equal(page, 'docs/runbooks.md', alert.alert);
      assert.ok(anchors.has(anchor as string), `${alert.alert}: runbook section #${anchor}`);
    }
  });
});
