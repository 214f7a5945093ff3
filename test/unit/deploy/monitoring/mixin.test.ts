import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { execa } from 'execa';
import { parse } from 'yaml';
import { monitoringConfig, type MonitoringConfig } from '../../../../deploy/monitoring/monitoring-config.js';
import { renderArtefacts } from '../../../../deploy/monitoring/render-artefacts.js';
import { configSections } from '../../../../deploy/monitoring/render-config-reference.js';
import { renderMixin, splitGroups } from '../../../../deploy/monitoring/render-mixin.js';
import { repoPath } from '../../../helpers/repo-path.js';

interface Group {
  name: string;
  rules: { alert?: string; record?: string; expr: string }[];
}
const read = (path: string) => readFileSync(repoPath(path), 'utf8');
/** The groups promtool checks in test/checks/20-prometheus-rules.sh. */
const rulesFileGroups = (parse(read('deploy/prometheus/ollama-sentinel.rules.yml')) as { groups: Group[] }).groups;

describe('deploy/mixin (committed files)', () => {
  it('is a PrometheusRule named and labelled from the config whose spec.groups are the rules file groups', () => {
    const rule = parse(read('deploy/mixin/prometheus-rule.yaml')) as {
      apiVersion: string;
      kind: string;
      metadata: { name: string; labels: Record<string, string> };
      spec: { groups: Group[] };
    };
    assert.equal(rule.apiVersion, 'monitoring.coreos.com/v1');
    assert.equal(rule.kind, 'PrometheusRule');
    assert.deepEqual(rule.metadata, {
      name: monitoringConfig.kubernetes.ruleName,
      labels: monitoringConfig.kubernetes.ruleLabels,
    });
    assert.ok(rulesFileGroups.length >= 2, 'the rules file has no groups: the parse is broken');
    assert.deepEqual(rule.spec.groups, rulesFileGroups);
  });

  it('splits the rules file into alerting and recording files that together are the rules file', () => {
    const alerts = (parse(read('deploy/mixin/prometheus_alerts.yaml')) as { groups: Group[] }).groups;
    const records = (parse(read('deploy/mixin/prometheus_rules.yaml')) as { groups: Group[] }).groups;
    assert.ok(alerts.length > 0 && records.length > 0);
    for (const g of alerts)
      assert.ok(
        g.rules.every((r) => r.alert !== undefined && r.record === undefined),
        g.name,
      );
    for (const g of records)
      assert.ok(
        g.rules.every((r) => r.record !== undefined && r.alert === undefined),
        g.name,
      );
    const byName = (groups: Group[]) => new Map(groups.map((g) => [g.name, g]));
    assert.deepEqual(byName([...records, ...alerts]), byName(rulesFileGroups));
    assert.equal(records.length + alerts.length, rulesFileGroups.length);
  });

  it('passes promtool check rules (with the lint) on both split files', async () => {
    const r = await execa(
      'promtool',
      [
        'check',
        'rules',
        '--lint=all',
        '--lint-fatal',
        repoPath('deploy/mixin/prometheus_alerts.yaml'),
        repoPath('deploy/mixin/prometheus_rules.yaml'),
      ],
      { reject: false, all: true },
    );
    if ((r as { code?: string }).code === 'ENOENT') assert.fail('promtool not found: apt-get install prometheus');
    assert.equal(r.exitCode, 0, r.all);
  });

  it('has its README point at every dashboard the generator writes, without copying them', async () => {
    const artefacts = renderArtefacts(monitoringConfig, await configSections());
    const dashboards = [...artefacts.keys()].filter((p) => p.startsWith('grafana/dashboards/'));
    assert.ok(dashboards.length >= 2);
    const readme = read('deploy/mixin/README.md');
    for (const d of dashboards) assert.ok(readme.includes(`--from-file=${d} `), `README misses ${d}`);
    assert.deepEqual(
      [...artefacts.keys()].filter((p) => p.startsWith('deploy/mixin/') && p.endsWith('.json')),
      [],
    );
  });
});

describe('renderMixin', () => {
  it('takes the selector and the Kubernetes labels from the config', () => {
    const cfg: MonitoringConfig = {
      ...monitoringConfig,
      exporterSelector: 'job="scrapeConfig/monitoring/gpu-hosts"',
      kubernetes: {
        ruleName: 'gpu-rules',
        ruleLabels: { release: 'kube-prometheus-stack' },
        dashboardConfigMapLabel: ['grafana_dashboard', 'ollama'],
      },
    };
    const files = renderMixin(cfg, new Map());
    const rule = parse(files.get('deploy/mixin/prometheus-rule.yaml')!) as {
      metadata: unknown;
      spec: { groups: Group[] };
    };
    assert.deepEqual(rule.metadata, { name: 'gpu-rules', labels: { release: 'kube-prometheus-stack' } });
    const exprs = rule.spec.groups.flatMap((g) => g.rules.map((r) => r.expr));
    assert.ok(exprs.every((e) => !e.includes('job="ollama-sentinel"')));
    assert.ok(exprs.filter((e) => e.includes('job="scrapeConfig/monitoring/gpu-hosts"')).length > 20);
    const readme = files.get('deploy/mixin/README.md')!;
    assert.match(readme, /- `release: kube-prometheus-stack`/);
    assert.match(readme, /replacement: scrapeConfig\/monitoring\/gpu-hosts$/m);
    assert.match(readme, /kubectl label --local -f - grafana_dashboard=ollama /);
  });

  it('lists whatever dashboards it is given, and no job to relabel to when the selector is not one job', () => {
    const cfg: MonitoringConfig = { ...monitoringConfig, exporterSelector: 'job=~"sentinel-.*"' };
    const readme = renderMixin(
      cfg,
      new Map([
        ['grafana/dashboards/zz-new.json', '{}'],
        ['grafana/dashboards/aa-other.json', '{}'],
        ['grafana/README.md', ''],
      ]),
    ).get('deploy/mixin/README.md')!;
    const listed = [...readme.matchAll(/--from-file=(\S+)/g)].map((m) => m[1]);
    assert.deepEqual(listed, ['grafana/dashboards/aa-other.json', 'grafana/dashboards/zz-new.json']);
    assert.match(readme, /replacement: <the job your selector names>/);
  });

  it('refuses a group that mixes alerting and recording rules, naming it', () => {
    assert.throws(
      () =>
        splitGroups([
          {
            name: 'mixed',
            rules: [
              { record: 'a:b', expr: 'up' },
              { alert: 'A', expr: 'up == 0', for: '1m', labels: {}, annotations: {} },
            ],
          },
        ]),
      /rule group mixed mixes alerting and recording rules.*separate groups/,
    );
  });
});
