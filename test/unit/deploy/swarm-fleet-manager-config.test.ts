import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { monitoringConfig } from '../../../deploy/monitoring/monitoring-config.js';
import { selfConflicts } from '../../../remediator/config/validate-self.js';
import type { RemediatorConfig } from '../../../remediator/remediator-section.js';
import { loadDeployConfig } from '../../helpers/load-deploy-config.js';

const path = 'deploy/swarm/fleet-manager-sentinel.yaml';
const config = loadDeployConfig(path);
const cfg = config.remediator as RemediatorConfig;
const fleet = monitoringConfig.fleet;

describe(path, () => {
  it('is the fleet scope, with service-level ladders only (the configuration check passed loading it)', () => {
    assert.equal(cfg.node_scope, 'fleet');
    assert.ok(cfg.fleet_min_nodes >= 2);
    for (const rule of cfg.rules) assert.deepEqual(rule.ladder, ['force_update_service'], rule.name);
    assert.deepEqual(selfConflicts(cfg.self, config.ollama), [], "the remediator's start-up check");
  });

  it('listens where the Alertmanager `fleet` receiver posts, with the token it sends', () => {
    assert.equal(cfg.listen_address, `:${fleet.fleetRemediator.port}`);
    assert.equal(cfg.bearer_token_file, fleet.secrets.remediatorTokenFile);
  });

  it('acts on exactly the alerts the `fleet` route sends it', () => {
    const pattern = new RegExp(`^(?:${cfg.rules.map((r) => r.match_re.alertname).join('|')})$`);
    for (const name of Object.keys(monitoringConfig.alerts))
      assert.equal(pattern.test(name), fleet.fleetRemediator.alerts.includes(name as never), name);
  });

  it('waits out a rolling restart of the fleet and its alerts resolving', () => {
    assert.ok(cfg.step_timeout_ms > cfg.converge_timeout_ms, 'the step outlives the convergence it waits for');
    assert.ok(cfg.verify_timeout_ms > 60_000, "longer than the `fleet` route's group_interval");
  });
});
