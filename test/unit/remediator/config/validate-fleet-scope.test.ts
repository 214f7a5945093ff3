import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { explainAlert } from '../../../../remediator/explain-command.js';
import { compileRules } from '../../../../remediator/policy/match-rule.js';
import { judgeAlertNode, ownNodeFromInfo, type NodeRules } from '../../../../remediator/node/own-node.js';
import { ConfigError } from '../../../../shared/config/config-issues.js';
import { loadRemediatorConfig } from '../../../helpers/load-remediator-config.js';

const A = 'aaaaaaaaaaaaaaaaaaaaaaaa1';
const M = 'mmmmmmmmmmmmmmmmmmmmmmmm0';
const TARGET = `ollama:\n  - {name: main, url: "http://127.0.0.1:1", container: {swarm: {service: ollama, stack: fleet}}}\n`;

function issuesOf(yaml: string, env: Record<string, string> = {}) {
  try {
    loadRemediatorConfig(yaml, env);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.issues;
  }
  return [];
}

describe('node_scope fleet: configuration', () => {
  it('takes force_update_service ladders and fleet_min_nodes (default 2)', () => {
    const { cfg } = loadRemediatorConfig(`${TARGET}remediator:
  node_scope: fleet
  rules:
    - {name: r, match: {alertname: OllamaProbeHung}, ladder: [force_update_service]}
`);
    assert.equal(cfg.node_scope, 'fleet');
    assert.equal(cfg.fleet_min_nodes, 2);
  });

  it('lists every rule with a node-local step, a step without heal marker or no ladder, schedules, and a fleet_min_nodes below 2, at once', () => {
    const issues = issuesOf(`${TARGET}models:\n  - {name: llama3}\nremediator:
  node_scope: fleet
  fleet_min_nodes: 1
  rules:
    - {name: local, match: {alertname: OllamaProbeHung}, ladder: [reload, force_update_service]}
    - {name: chosen, match: {alertname: OllamaApiDown}}
    - {name: fine, match: {alertname: OllamaLoadStalled}, ladder: [force_update_service]}
    - {name: unmarked, match: {alertname: OllamaGpuLost}, ladder: [force_update_service, redeploy_stack]}
  schedules:
    - {name: morning, cron: "0 50 7 * * 1-5", timezone: UTC, action: warm_up}
`);
    const byPath = new Map(issues.map((i) => [i.path, i]));
    assert.deepEqual([...byPath.keys()].sort(), [
      'remediator.fleet_min_nodes',
      'remediator.rules[0].ladder',
      'remediator.rules[1].ladder',
      'remediator.rules[3].ladder',
      'remediator.schedules',
    ]);
    assert.match(byPath.get('remediator.rules[0].ladder')!.problem, /node-local step\(s\) reload/);
    assert.match(byPath.get('remediator.rules[0].ladder')!.fix, /keep only force_update_service/);
    // Every manager hears the alerts: only the force update's heal marker lets one act and the others stand down.
    assert.match(byPath.get('remediator.rules[3].ladder')!.problem, /redeploy_stack, which writes no heal marker/);
    assert.match(byPath.get('remediator.rules[1].ladder')!.problem, /names no ladder/);
    assert.match(byPath.get('remediator.schedules')!.fix, /nodes' remediator config/);
  });

  it('the scope set by the environment is the one checked', () => {
    const yaml = `${TARGET}remediator:\n  rules:\n    - {name: r, match: {alertname: X}, ladder: [reload]}\n`;
    assert.deepEqual(issuesOf(yaml), []);
    const issues = issuesOf(yaml, { SENTINEL_REMEDIATOR_NODE_SCOPE: 'fleet' });
    assert.deepEqual(
      issues.map((i) => i.path),
      ['remediator.rules[0].ladder'],
    );
  });
});

describe('node_scope fleet: explain', () => {
  it('says the fleet remediator takes the alert on a manager once several nodes fire, and refuses one naming no node', () => {
    const { all, cfg } = loadRemediatorConfig(`${TARGET}remediator:
  node_scope: fleet
  rules:
    - {name: r, match: {alertname: OllamaProbeHung}, ladder: [force_update_service]}
`);
    const explain = (labels: Record<string, string>) =>
      explainAlert(cfg, all.ollama, compileRules(cfg.rules), new Map(), labels, Date.now());
    const e = explain({ alertname: 'OllamaProbeHung', ollama: 'main', node: A });
    assert.match(e.node!, /node_scope fleet \(on a Swarm manager only, else refused not_manager\)/);
    assert.match(e.verdict, /would act once the incident's firing alerts name 2 nodes or the service has one task/);
    const none = explain({ alertname: 'OllamaProbeHung', ollama: 'main' });
    assert.ok('refused' in none.target && none.target.refused === 'no_node_label');
  });
});

describe('node_scope fleet: whose alert is it', () => {
  const fleet: NodeRules = { scope: { kind: 'fleet' }, label: 'node', required: false };
  const manager = ownNodeFromInfo({
    Name: 'm',
    Swarm: { NodeID: M, LocalNodeState: 'active', ControlAvailable: true },
  });

  it("takes every node's alert on a manager, and requires the node label even when require_node_label is off", () => {
    assert.deepEqual(judgeAlertNode({ node: A }, fleet, manager), { ok: true });
    assert.deepEqual(judgeAlertNode({ node: M }, fleet, manager), { ok: true });
    const none = judgeAlertNode({ alertname: 'X' }, fleet, manager);
    assert.ok(!none.ok && 'refused' in none && none.refused === 'no_node_label');
  });

  it('refuses on a worker and outside a Swarm (not_manager); undecided while the node is unknown', () => {
    const worker = ownNodeFromInfo({ Name: 'w', Swarm: { NodeID: A, LocalNodeState: 'active' } });
    const w = judgeAlertNode({ node: A }, fleet, worker);
    assert.ok(!w.ok && 'refused' in w && w.refused === 'not_manager');
    assert.equal(w.ownNode, A);
    assert.match(w.detail, /node aaa+1 \(worker\) is not one/);
    const single = ownNodeFromInfo({ Name: 'h' });
    const s = judgeAlertNode({ node: A }, fleet, single);
    assert.ok(!s.ok && 'refused' in s && s.refused === 'not_manager');
    const u = judgeAlertNode({ node: A }, fleet, { state: 'unknown', detail: 'Docker did not say' });
    assert.ok(!u.ok && 'unknown' in u);
  });
});
