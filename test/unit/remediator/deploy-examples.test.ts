import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { compileRules, matchRule } from '../../../remediator/policy/match-rule.js';
import { loadRemediatorConfig } from '../../helpers/load-remediator-config.js';

const repoFile = (p: string) => readFileSync(fileURLToPath(new URL(`../../../../${p}`, import.meta.url)), 'utf8');

describe('deploy/alertmanager examples', () => {
  const example = repoFile('deploy/alertmanager/remediator.example.yaml');
  const { cfg } = loadRemediatorConfig(
    `ollama: [{name: main, url: "http://127.0.0.1:11434", container: {compose: {project: ai, service: ollama}}}]\nmodels: [{name: llama3, keep_warm: true}]\n${example}`,
  );

  it('the remediator section example is valid configuration', () => {
    assert.ok(cfg.rules.length >= 5);
    assert.equal(cfg.bearer_token_file, '/etc/ollama-sentinel/secrets/remediator-token');
  });

  it('every alert the shipped rules mark remediate="true" meets a rule, and no escalation-only alert does', () => {
    const doc = parse(repoFile('deploy/prometheus/ollama-sentinel.rules.yml')) as {
      groups: { rules: { alert?: string; labels?: Record<string, string> }[] }[];
    };
    const alerts = doc.groups.flatMap((g) => g.rules).filter((r) => r.alert);
    const remediable = alerts.filter((r) => r.labels?.remediate === 'true').map((r) => r.alert!);
    assert.ok(remediable.length >= 5, `remediable alerts: ${remediable.join(', ')}`);
    const rules = compileRules(cfg.rules);
    for (const name of remediable)
      assert.ok(matchRule(rules, { alertname: name, ollama: 'main', remediate: 'true' }), `no rule for ${name}`);
    for (const name of alerts.filter((r) => r.labels?.remediate !== 'true').map((r) => r.alert!)) {
      assert.equal(
        matchRule(rules, { alertname: name, ollama: 'main' }),
        undefined,
        `${name} is not remediable but meets a rule`,
      );
    }
  });

  it('the Alertmanager example sends the remediator receiver bearer auth from a file and resolutions', () => {
    const am = parse(repoFile('deploy/alertmanager/alertmanager.yml')) as {
      receivers: {
        name: string;
        webhook_configs?: {
          url: string;
          send_resolved: boolean;
          max_alerts: number;
          http_config: { authorization: { type: string; credentials_file: string } };
        }[];
      }[];
    };
    const hook = am.receivers.find((r) => r.name === 'sentinel-remediator')!.webhook_configs![0]!;
    assert.equal(new URL(hook.url).port, new URL(`http://${cfg.listen_address}`).port);
    assert.equal(hook.send_resolved, true);
    assert.ok(hook.max_alerts > 0 && hook.max_alerts <= cfg.max_alerts_per_request);
    assert.equal(hook.http_config.authorization.type, 'Bearer');
    assert.match(hook.http_config.authorization.credentials_file, /^\//);
  });
});
