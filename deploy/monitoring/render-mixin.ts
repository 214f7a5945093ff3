import { stringify } from 'yaml';
import type { MonitoringConfig } from './monitoring-config.js';
import { GENERATED_NOTE, ruleGroups, type RuleGroup } from './render-rules-file.js';

export const MIXIN_DIR = 'deploy/mixin';
const DASHBOARD_PATH = /^grafana\/dashboards\/[^/]+\.json$/;

/**
 * deploy/mixin/: the rules file's groups as the Prometheus Operator and mixin users take them (a PrometheusRule, and
 * the alerts/recording rules split into prometheus_alerts.yaml and prometheus_rules.yaml), plus a README. Dashboards
 * are not copied: the README points at every `grafana/dashboards/*.json` among `artefacts` (the generator's other
 * outputs), whatever dashboards those are.
 */
export function renderMixin(cfg: MonitoringConfig, artefacts: ReadonlyMap<string, string>): Map<string, string> {
  const groups = ruleGroups(cfg);
  const { alerts, records } = splitGroups(groups);
  const dashboards = [...artefacts.keys()].filter((p) => DASHBOARD_PATH.test(p)).sort();
  const prometheusRule = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: cfg.kubernetes.ruleName, labels: cfg.kubernetes.ruleLabels },
    spec: { groups },
  };
  return new Map([
    [`${MIXIN_DIR}/prometheus-rule.yaml`, yamlFile(prometheusRule)],
    [`${MIXIN_DIR}/prometheus_alerts.yaml`, yamlFile({ groups: alerts })],
    [`${MIXIN_DIR}/prometheus_rules.yaml`, yamlFile({ groups: records })],
    [`${MIXIN_DIR}/README.md`, renderMixinReadme(cfg, dashboards)],
  ]);
}

/** Mixins ship alerting and recording rules apart; a group mixing both would have to be split first. */
export function splitGroups(groups: readonly RuleGroup[]): { alerts: RuleGroup[]; records: RuleGroup[] } {
  const alerts: RuleGroup[] = [];
  const records: RuleGroup[] = [];
  for (const g of groups) {
    const kinds = new Set(g.rules.map((r) => ('alert' in r ? 'alert' : 'record')));
    if (kinds.size > 1)
      throw new Error(
        `rule group ${g.name} mixes alerting and recording rules: deploy/mixin/ ships them in separate files, so put them in separate groups (render-rules-file.ts)`,
      );
    (kinds.has('alert') ? alerts : records).push(g);
  }
  return { alerts, records };
}

function yamlFile(doc: unknown): string {
  return `# ${GENERATED_NOTE}\n${stringify(doc, { lineWidth: 0, indent: 2 })}`;
}

function renderMixinReadme(cfg: MonitoringConfig, dashboards: readonly string[]): string {
  const labels = Object.entries(cfg.kubernetes.ruleLabels);
  const [cmLabel, cmValue] = cfg.kubernetes.dashboardConfigMapLabel;
  // The example scrape config can set the job only when the selector is a plain job matcher.
  const job = /^job="([^"]+)"$/.exec(cfg.exporterSelector)?.[1];
  return [
    '# ollama-sentinel monitoring for Kubernetes (Prometheus Operator)',
    '',
    `<!-- ${GENERATED_NOTE} -->`,
    '',
    'The rules of `deploy/prometheus/ollama-sentinel.rules.yml`, in the forms a Prometheus that runs on Kubernetes',
    'takes them, for teams whose Ollama servers (and so the exporter and the remediator) run on GPU hosts outside it:',
    '',
    '- `prometheus-rule.yaml`: a `PrometheusRule` for the Prometheus Operator (kube-prometheus, kube-prometheus-stack);',
    '  its `spec.groups` are exactly the groups of the rules file.',
    '- `prometheus_alerts.yaml` and `prometheus_rules.yaml`: the alerting and the recording rules apart, as monitoring',
    '  mixins ship them, for any other way of loading rule files. Load both: the alerts use the recorded series.',
    '- Dashboards: not copied here; import the generated ones from their folder (below).',
    '',
    '## Apply',
    '',
    '```sh',
    'kubectl apply -n monitoring -f deploy/mixin/prometheus-rule.yaml',
    '```',
    '',
    "Prometheus loads a PrometheusRule only when its namespace matches the Prometheus resource's",
    '`ruleNamespaceSelector` and its labels match `ruleSelector`. The rule carries:',
    '',
    ...labels.map(([k, v]) => `- \`${k}: ${v}\``),
    '',
    'See what yours selects with `kubectl get prometheus -A -o yaml | grep -A3 ruleSelector`. kube-prometheus-stack',
    'selects `release: <Helm release name>`: add that label to `kubernetes.ruleLabels` in',
    '`deploy/monitoring/monitoring-config.ts` and regenerate (below), or label the applied object',
    `(\`kubectl label prometheusrule ${cfg.kubernetes.ruleName} release=<name>\`).`,
    '',
    '## Scraping exporters outside the cluster',
    '',
    `Every rule selects the exporter's series with \`{${cfg.exporterSelector}}\` and tells hosts apart by`,
    `${cfg.instanceLabels
      .map((l) => `\`${l}\``)
      .join(', ')
      .replace(/, ([^,]+)$/, ' and $1')}. The Operator names the job of a scrape config after`,
    "its resource (a ScrapeConfig's is `scrapeConfig/<namespace>/<name>`), so set it back" +
      (job ? ` to \`${job}\`:` : ' to what the selector expects:'),
    '',
    '```yaml',
    'apiVersion: monitoring.coreos.com/v1alpha1',
    'kind: ScrapeConfig',
    'metadata:',
    '  name: ollama-sentinel',
    'spec:',
    '  staticConfigs:',
    "    - targets: ['gpu-host-1:9778', 'gpu-host-2:9778']",
    '  relabelings:',
    '    - targetLabel: job',
    `      replacement: ${job ?? '<the job your selector names>'}`,
    '```',
    '',
    "Give it the labels the Prometheus resource's `scrapeConfigSelector` asks for. To keep another job name, change",
    '`exporterSelector` in `deploy/monitoring/monitoring-config.ts` instead and regenerate: every rule, dashboard query',
    'and this folder follow. Then:',
    '',
    '```sh',
    'npx tsc -p tsconfig.json && node dist/deploy/monitoring/generate.js',
    '```',
    '',
    'Alerts labelled `remediate="true"` go to the remediator on the GPU host: keep the route of',
    '`deploy/alertmanager/alertmanager.yml` in the main Alertmanager configuration. An `AlertmanagerConfig` resource',
    'would also match `namespace="<its namespace>"` by default, which these alerts do not carry.',
    '',
    '## Dashboards',
    '',
    `Grafana's dashboard sidecar loads ConfigMaps labelled \`${cmLabel}: "${cmValue}"\`. From the repository root:`,
    '',
    '```sh',
    'kubectl create configmap ollama-sentinel-dashboards -n monitoring --dry-run=client -o yaml \\',
    ...dashboards.map((d) => `  --from-file=${d} \\`),
    `  | kubectl label --local -f - ${cmLabel}=${cmValue} -o yaml | kubectl apply --server-side -f -`,
    '```',
    '',
    '(`--server-side`: a client-side apply copies the object into an annotation limited to 256 KiB, which growing',
    'dashboards would exceed.)',
    '',
  ].join('\n');
}
