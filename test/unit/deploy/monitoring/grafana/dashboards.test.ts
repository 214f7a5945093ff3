import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { monitoringConfig } from '../../../../../deploy/monitoring/monitoring-config.js';
import { renderArtefacts } from '../../../../../deploy/monitoring/render-artefacts.js';
import { configSections } from '../../../../../deploy/monitoring/render-config-reference.js';
import { dashboardQueries, substituteMacros } from '../../../../helpers/dashboard-queries.js';
import { exporterMetricNames } from '../../../../helpers/exporter-metric-names.js';
import { promqlMetricNames } from '../../../../helpers/promql-metric-names.js';
import { repoPath } from '../../../../helpers/repo-path.js';

const sections = await configSections();

interface Panel {
  id: number;
  type: string;
  title?: string;
  description?: string;
  datasource?: { type: string; uid: string };
  fieldConfig?: { defaults?: { unit?: string } };
  targets?: { datasource?: { uid: string }; expr?: string; refId?: string }[];
  gridPos: { x: number; y: number; w: number; h: number };
}

const dir = repoPath('grafana/dashboards');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort();
const dashboards = files.map((f) => ({
  file: f,
  json: JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>,
}));
const panelsOf = (d: Record<string, unknown>) => (d.panels as Panel[]).filter((p) => p.type !== 'row');
const variablesOf = (d: Record<string, unknown>) => (d.templating as { list: Record<string, unknown>[] }).list;
const DS = '${datasource}';

describe('grafana dashboards', () => {
  it('are the two generated ones, byte for byte what the config generates', () => {
    const generated = [...renderArtefacts(monitoringConfig, sections)].filter(([p]) =>
      p.startsWith('grafana/dashboards/'),
    );
    assert.deepEqual(files, generated.map(([p]) => p.slice('grafana/dashboards/'.length)).sort());
    for (const [path, content] of generated) {
      assert.equal(
        readFileSync(repoPath(path), 'utf8'),
        content,
        `${path} is stale: run node dist/deploy/monitoring/generate.js`,
      );
    }
  });

  it('render identically twice (no timestamps, no random ids)', () => {
    assert.deepEqual(
      [...renderArtefacts(monitoringConfig, sections)],
      [...renderArtefacts(monitoringConfig, sections)],
    );
  });

  for (const { file, json: d } of dashboards) {
    describe(file, () => {
      it('has a stable uid, id null, and is read-only as provisioned dashboards should be', () => {
        assert.match(String(d.uid), /^ollama-sentinel-[a-z]+$/);
        assert.ok(String(d.uid).length <= 40, 'Grafana uids are at most 40 characters');
        assert.equal(d.id, null);
        assert.equal(d.editable, false);
        assert.ok(typeof d.title === 'string' && d.title.length > 0);
        assert.ok(typeof d.schemaVersion === 'number');
      });

      it('starts with a ${datasource} variable and has job and instance variables reloaded on time change', () => {
        const vars = variablesOf(d);
        assert.equal(vars[0]!.name, 'datasource');
        assert.equal(vars[0]!.type, 'datasource');
        assert.equal(vars[0]!.query, 'prometheus');
        for (const name of ['job', 'instance'])
          assert.ok(
            vars.some((v) => v.name === name),
            `no $${name} variable`,
          );
        for (const v of vars.filter((x) => x.type === 'query')) {
          assert.deepEqual(v.datasource, { type: 'prometheus', uid: DS }, `$${v.name}`);
          assert.equal(v.refresh, 2, `$${v.name} must reload on time range change`);
          assert.match(String(v.query), /^label_values\(/);
        }
        assert.ok(
          !JSON.stringify(d).includes('DS_PROMETHEUS'),
          'file provisioning cannot resolve ${DS_PROMETHEUS} inputs',
        );
      });

      it('gives every panel a title, description, unit, the ${datasource} data source and at least one query', () => {
        const panels = panelsOf(d);
        assert.ok(panels.length > 0);
        for (const p of panels) {
          const name = `panel "${p.title}" (id ${p.id})`;
          assert.ok(p.title && p.title.trim().length > 0, `panel id ${p.id} has no title`);
          assert.ok(p.description && p.description.trim().length > 0, `${name} has no description`);
          assert.ok(p.fieldConfig?.defaults?.unit, `${name} has no unit`);
          assert.deepEqual(p.datasource, { type: 'prometheus', uid: DS }, `${name} data source`);
          assert.ok((p.targets ?? []).length > 0, `${name} has no query`);
          const refIds = new Set<string>();
          for (const t of p.targets!) {
            assert.equal(t.datasource?.uid, DS, `${name} query ${t.refId} data source`);
            assert.ok(t.expr && t.expr.trim().length > 0, `${name} query ${t.refId} is empty`);
            assert.ok(t.refId && !refIds.has(t.refId), `${name}: refIds must be unique`);
            refIds.add(t.refId!);
          }
        }
      });

      it('lays panels out on the 24-column grid without overlaps, with unique ids', () => {
        const all = d.panels as Panel[];
        assert.equal(new Set(all.map((p) => p.id)).size, all.length, 'panel ids must be unique');
        for (const p of all)
          assert.ok(
            p.gridPos.x >= 0 && p.gridPos.x + p.gridPos.w <= 24 && p.gridPos.w > 0 && p.gridPos.h > 0,
            `panel ${p.id} gridPos`,
          );
        for (const [i, a] of all.entries()) {
          for (const b of all.slice(i + 1)) {
            const overlap =
              a.gridPos.x < b.gridPos.x + b.gridPos.w &&
              b.gridPos.x < a.gridPos.x + a.gridPos.w &&
              a.gridPos.y < b.gridPos.y + b.gridPos.h &&
              b.gridPos.y < a.gridPos.y + a.gridPos.h;
            assert.ok(!overlap, `panels ${a.id} and ${b.id} overlap`);
          }
        }
      });

      it('only queries series the exporter publishes', () => {
        const known = exporterMetricNames();
        for (const q of dashboardQueries(d)) {
          for (const name of promqlMetricNames(q.expr))
            assert.ok(known.has(name), `${q.where}: ${name} is not a metric of the exporter`);
        }
      });

      it('uses counters (_total) only inside rate/irate/increase over $__rate_interval, and no fixed ranges', () => {
        for (const q of dashboardQueries(d)) {
          const outsideRate = q.expr.replace(
            /\b(?:rate|irate|increase)\(\s*[a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?\[\$__rate_interval\]\s*\)/g,
            ' ',
          );
          assert.ok(
            !promqlMetricNames(outsideRate).some((n) => n.endsWith('_total')),
            `${q.where}: a _total series outside rate/increase(...[$__rate_interval]): ${q.expr}`,
          );
          for (const range of q.expr.matchAll(/\[([^\]]*)\]/g)) {
            assert.ok(
              ['$__rate_interval', '$__interval', '$__range'].includes(range[1]!),
              `${q.where}: fixed range [${range[1]}]; use $__rate_interval`,
            );
          }
        }
      });

      it('filters every exporter series by $job and $instance (and by $target where the series has one)', () => {
        const hasTarget = variablesOf(d).some((v) => v.name === 'target');
        for (const q of dashboardQueries(d)) {
          if (q.where.startsWith('variable $job')) continue;
          for (const m of q.expr.matchAll(/(sentinel_[a-z0-9_]+)(\{[^}]*\})?/g)) {
            const matchers = m[2] ?? '';
            assert.ok(matchers.includes('job=~"$job"'), `${q.where}: ${m[1]} does not filter on $job`);
            if (q.where.startsWith('variable $instance')) continue;
            assert.ok(matchers.includes('instance=~"$instance"'), `${q.where}: ${m[1]} does not filter on $instance`);
            // Every sentinel_ollama_* and sentinel_probe_* series is per target (label `target`).
            if (hasTarget && /^sentinel_(ollama|probe)_/.test(m[1]!) && !q.where.startsWith('variable $target')) {
              assert.ok(matchers.includes('target=~"$target"'), `${q.where}: ${m[1]} does not filter on $target`);
            }
          }
        }
      });
    });
  }

  it('every expression parses (promtool check rules, macros substituted)', async () => {
    const rules = dashboards
      .flatMap(({ json }) => dashboardQueries(json))
      .map((q) => ({ record: q.recordName, expr: substituteMacros(q.expr) }));
    assert.equal(
      new Set(rules.map((r) => r.record)).size,
      rules.length,
      'record names must be unique to tell failures apart',
    );
    const scratch = mkdtempSync(join(tmpdir(), 'sentinel-dashboards-'));
    try {
      const file = join(scratch, 'dashboard-queries.rules.yml');
      writeFileSync(file, stringify({ groups: [{ name: 'dashboard-queries', rules }] }, { lineWidth: 0 }));
      const r = await execa('promtool', ['check', 'rules', file], { reject: false, all: true });
      if (r.failed && (r as { code?: string }).code === 'ENOENT')
        assert.fail('promtool not found: apt-get install prometheus');
      assert.equal(r.exitCode, 0, `promtool check rules failed on dashboard queries:\n${r.all}`);
      assert.match(r.all ?? '', new RegExp(`SUCCESS: ${rules.length} rules found`));
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
