import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ALERT_NAMES, monitoringConfig } from '../../../../deploy/monitoring/monitoring-config.js';
import { renderArtefacts } from '../../../../deploy/monitoring/render-artefacts.js';
import { remediatorSection } from '../../../../remediator/remediator-section.js';
import { configSections } from '../../../../deploy/monitoring/render-config-reference.js';
import { exporterMetricNames } from '../../../helpers/exporter-metric-names.js';
import { promqlMetricNames } from '../../../helpers/promql-metric-names.js';
import { repoPath } from '../../../helpers/repo-path.js';

const sections = await configSections();

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface AlertTest {
  alertname: string;
  eval_time: string;
  exp_alerts?: { exp_labels?: Record<string, string>; exp_annotations?: Record<string, string> }[];
}
interface TestGroup {
  name?: string;
  interval?: string;
  alert_rule_test?: AlertTest[];
  promql_expr_test?: { expr: string; eval_time?: string }[];
}

/** A Prometheus duration (`1h30m`, `10m30s`, `500ms`) in milliseconds; NaN when it is not one. */
function promDurationMs(text: string): number {
  const units: Record<string, number> = {
    ms: 1,
    s: 1e3,
    m: 60e3,
    h: 3600e3,
    d: 86400e3,
    w: 7 * 86400e3,
    y: 365 * 86400e3,
  };
  if (text === '0') return 0;
  const parts = [...text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return Number.NaN;
  return parts.reduce((sum, p) => sum + Number(p[1]) * units[p[2]!]!, 0);
}

const rulesPath = 'deploy/prometheus/ollama-sentinel.rules.yml';
const rulesText = readFileSync(repoPath(rulesPath), 'utf8');
const groups = (parse(rulesText) as { groups: { name: string; rules: Rule[] }[] }).groups;
const rules = groups.flatMap((g) => g.rules);
const alerts = rules.filter((r) => r.alert !== undefined);
const records = rules.filter((r) => r.record !== undefined);
const runbook = readFileSync(repoPath('deploy/monitoring/runbook.md'), 'utf8');
const testDir = repoPath('deploy/prometheus/tests');
const testGroups: TestGroup[] = readdirSync(testDir)
  .filter((f) => f.endsWith('.yml'))
  .flatMap((f) => (parse(readFileSync(join(testDir, f), 'utf8')) as { tests: TestGroup[] }).tests);
const alertTests = testGroups.flatMap((g) => (g.alert_rule_test ?? []).map((t) => ({ group: g.name ?? '', ...t })));

describe('prometheus rules', () => {
  it('are what monitoring-config.ts generates (rules file and runbook)', () => {
    const generated = renderArtefacts(monitoringConfig, sections);
    assert.equal(
      rulesText,
      generated.get(rulesPath),
      `${rulesPath} is stale: run node dist/deploy/monitoring/generate.js`,
    );
    assert.equal(runbook, generated.get('deploy/monitoring/runbook.md'), 'runbook.md is stale');
  });

  it('contain every configured alert exactly once, CamelCase with a shared prefix', () => {
    assert.deepEqual(alerts.map((a) => a.alert).sort(), [...ALERT_NAMES].sort());
    for (const a of alerts) assert.match(a.alert!, /^(Sentinel|Gpu|Ollama)[A-Z][A-Za-z0-9]+$/);
  });

  it('label every alert with a severity, summary, templated description and a runbook_url that exists', () => {
    const anchors = new Set([...runbook.matchAll(/^## (\S+)$/gm)].map((m) => m[1]!.toLowerCase()));
    for (const a of alerts) {
      assert.ok(['critical', 'warning', 'info'].includes(a.labels?.severity ?? ''), `${a.alert}: severity`);
      assert.deepEqual(
        Object.keys(a.annotations ?? {}).sort(),
        ['description', 'runbook_url', 'summary'],
        `${a.alert}: annotations`,
      );
      assert.ok(!a.annotations!.summary!.includes('{{'), `${a.alert}: summary should be a static headline`);
      // absent() has no series whose labels could be templated.
      if (!a.expr.startsWith('absent('))
        assert.ok(a.annotations!.description!.includes('{{'), `${a.alert}: description should be templated`);
      const url = a.annotations!.runbook_url!;
      assert.ok(url.startsWith(`${monitoringConfig.runbookBaseUrl}#`), `${a.alert}: runbook_url ${url}`);
      assert.ok(anchors.has(url.split('#')[1]!), `${a.alert}: runbook.md has no section for ${url}`);
      assert.match(a.for ?? '', /^\d+[smh]$/, `${a.alert}: for`);
    }
  });

  it('carry the Ollama target under the label the remediator routes on, and remediate="true" only where allowed', () => {
    const targetLabel = monitoringConfig.targetAlertLabel;
    assert.equal(
      targetLabel,
      remediatorSection.scalars.target_label!.default,
      'alert label and remediator.target_label default must agree',
    );
    for (const a of alerts) {
      const labels = a.labels ?? {};
      const allowed = ['severity', targetLabel, 'remediate'];
      assert.deepEqual(
        Object.keys(labels).filter((k) => !allowed.includes(k)),
        [],
        `${a.alert}: unexpected labels`,
      );
      if (targetLabel in labels) {
        assert.equal(labels[targetLabel], '{{ $labels.target }}', `${a.alert}: ${targetLabel} label`);
        assert.match(
          a.expr,
          /sentinel_(ollama|probe)_|target:/,
          `${a.alert}: per-target label on an expression without targets`,
        );
      }
      if ('remediate' in labels) {
        assert.equal(labels.remediate, 'true', `${a.alert}: remediate is "true" or absent`);
        assert.ok(targetLabel in labels, `${a.alert}: the remediator needs the target to act`);
      }
      assert.equal(
        labels.remediate === 'true',
        monitoringConfig.alerts[a.alert as (typeof ALERT_NAMES)[number]].remediate,
      );
    }
    // Host faults and overload are never healed by restarting containers.
    for (const name of [
      'GpuLost',
      'GpuEccUncorrectedErrors',
      'OllamaModelPartialOffload',
      'OllamaServerBusy',
      'OllamaOutOfMemory',
      'OllamaKeepWarmEvicted',
    ]) {
      assert.ok(
        !('remediate' in (alerts.find((a) => a.alert === name)?.labels ?? {})),
        `${name} must not be remediated`,
      );
    }
  });

  it('name recording rules level:metric:operations and use only exporter series or recorded ones', () => {
    const known = exporterMetricNames();
    const recorded = new Set(records.map((r) => r.record!));
    for (const r of records)
      assert.match(r.record!, /^[a-z][a-z_]*:[a-z][a-z0-9_]*:[a-z][a-z0-9_]*$/, `recording rule ${r.record}`);
    for (const r of rules) {
      for (const name of promqlMetricNames(r.expr)) {
        assert.ok(
          known.has(name) || recorded.has(name) || name === 'up',
          `${r.alert ?? r.record}: ${name} is neither an exporter series nor recorded here`,
        );
      }
    }
  });

  it('have a promtool test per alert: one that does not fire yet and one that fires with every label and annotation', () => {
    for (const a of alerts) {
      const mine = alertTests.filter((t) => t.alertname === a.alert);
      assert.ok(
        mine.some((t) => (t.exp_alerts ?? []).length === 0),
        `${a.alert}: no "does not fire" case in deploy/prometheus/tests`,
      );
      const firing = mine.flatMap((t) => t.exp_alerts ?? []);
      assert.ok(firing.length > 0, `${a.alert}: no "fires" case in deploy/prometheus/tests`);
      for (const e of firing) {
        for (const [k, v] of Object.entries(a.labels ?? {})) {
          if (!v.includes('{{')) assert.equal(e.exp_labels?.[k], v, `${a.alert}: a fires case lacks ${k}="${v}"`);
          else assert.ok(e.exp_labels?.[k], `${a.alert}: a fires case lacks the templated ${k} label`);
        }
        assert.deepEqual(
          Object.keys(e.exp_annotations ?? {}).sort(),
          ['description', 'runbook_url', 'summary'],
          `${a.alert}: a fires case must check every annotation`,
        );
        assert.equal(e.exp_annotations!.runbook_url, a.annotations!.runbook_url);
      }
    }
  });

  // Raw series cannot tell a cold load, a runner busy with users or a model on the CPU by design from a fault; the
  // diagnosis can, and the remediator re-checks the same diagnosis before it acts. The three exceptions read series
  // that no normal state moves: HEAD / answers during loads and generations (server/routes.go), /api/tags and the
  // 404 do not depend on the scheduler, and orphans are runners no server owns.
  it('key every remediable alert on the diagnosis, except the three whose raw series no normal state moves', () => {
    const raw = ['OllamaApiDown', 'OllamaModelMissing', 'OllamaOrphanRunners'];
    for (const a of alerts.filter((x) => x.labels?.remediate === 'true')) {
      if (raw.includes(a.alert!)) continue;
      const names = promqlMetricNames(a.expr);
      assert.ok(names.includes('sentinel_ollama_condition'), `${a.alert}: not keyed on sentinel_ollama_condition`);
      const others = names.filter(
        (n) => n !== 'sentinel_ollama_condition' && n !== 'sentinel_gpu_container_memory_used_bytes',
      );
      assert.deepEqual(others, [], `${a.alert}: raw series decide a remediation`);
    }
  });

  // Issue 9: a long `for:` hides a fault as long as it hides a load; the diagnosis must tell them apart instead.
  it('never raise a remediable alert’s for: above what it was when the diagnosis took over', () => {
    const ceiling: Record<string, string> = {
      OllamaApiDown: '2m',
      OllamaGpuIdleWhileModelLoaded: '5m',
      OllamaProbeHung: '0m',
      OllamaProbeFailing: '0m',
      OllamaLoadStalled: '0m',
      OllamaRunnerCrashed: '1m',
      OllamaModelMissing: '10m',
      OllamaOrphanRunners: '5m',
      OllamaModelStuckStopping: '5m',
    };
    const remediable = alerts.filter((a) => a.labels?.remediate === 'true').map((a) => a.alert!);
    assert.deepEqual(remediable.sort(), Object.keys(ceiling).sort(), 'a new remediable alert needs its ceiling here');
    for (const a of alerts.filter((x) => x.alert! in ceiling))
      assert.ok(promDurationMs(a.for!) <= promDurationMs(ceiling[a.alert!]!), `${a.alert}: for ${a.for}`);
  });

  it('test a normal day in which no remediable alert fires', () => {
    const day = alertTests.filter((t) => /normal day/i.test(t.group));
    for (const a of alerts.filter((x) => x.labels?.remediate === 'true')) {
      const mine = day.filter((t) => t.alertname === a.alert);
      assert.ok(mine.length >= 3, `${a.alert}: checked at fewer than 3 moments of the normal day`);
      for (const t of mine) assert.deepEqual(t.exp_alerts ?? [], [], `${a.alert} at ${t.eval_time}`);
    }
  });

  it('test that a keep_alive unload never fires the CPU-fallback alert', () => {
    const cases = alertTests.filter(
      (t) => t.alertname === 'OllamaGpuIdleWhileModelLoaded' && /keep_alive/.test(t.group),
    );
    assert.ok(cases.length >= 2, 'the keep_alive unload case must check several moments after the unload');
    for (const t of cases) assert.deepEqual(t.exp_alerts ?? [], [], `${t.group} at ${t.eval_time}`);
  });

  // Prometheus 3 leaves the sample on a range's left edge out (2.x kept it): a test evaluated on its input grid can
  // pass on one and fail on the other, so every eval_time falls between two input samples.
  it('evaluate every promtool test off its input grid, so no sample sits on a range left edge', () => {
    const onGrid: string[] = [];
    for (const g of testGroups) {
      const interval = promDurationMs(g.interval ?? '1m'); // promtool's default input interval
      assert.ok(interval > 0, `${g.name}: interval ${g.interval}`);
      for (const t of [...(g.alert_rule_test ?? []), ...(g.promql_expr_test ?? [])]) {
        const at = promDurationMs(t.eval_time ?? '0');
        assert.ok(!Number.isNaN(at), `${g.name}: eval_time ${t.eval_time}`);
        if (at % interval === 0)
          onGrid.push(`${g.name} at ${t.eval_time ?? '0 (default)'} (interval ${g.interval ?? '1m'})`);
      }
    }
    assert.deepEqual(onGrid, [], 'tests evaluated on their input grid (use e.g. eval_time: 10m30s)');
  });

  it('test every recording rule', () => {
    const tested = new Set(testGroups.flatMap((g) => (g.promql_expr_test ?? []).map((t) => t.expr.trim())));
    for (const r of records) assert.ok(tested.has(r.record!), `no promql_expr_test for ${r.record}`);
  });
});
