import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { explainAlert } from '../../../../remediator/explain-command.js';
import {
  applyScope,
  judgeAlertNode,
  ownNodeFromInfo,
  parseNodeScope,
  type NodeRules,
} from '../../../../remediator/node/own-node.js';
import { compileRules } from '../../../../remediator/policy/match-rule.js';
import { ConfigError } from '../../../../shared/config/config-issues.js';
import { makeHarness } from '../../../helpers/engine-harness.js';
import { loadRemediatorConfig } from '../../../helpers/load-remediator-config.js';
import { CONDITIONS_OBS } from '../../../helpers/observation.js';

const A = 'aaaaaaaaaaaaaaaaaaaaaaaa1';
const B = 'bbbbbbbbbbbbbbbbbbbbbbbb2';
const inSwarm = ownNodeFromInfo({ Name: 'gpu-a', Swarm: { NodeID: A, LocalNodeState: 'active' } });
const auto: NodeRules = { scope: { kind: 'auto' }, label: 'node', required: false };

describe('node scope: whose alert is it', () => {
  it('reads the node from GET /info: active with an id, inactive = no Swarm, anything else unknown', () => {
    assert.deepEqual(inSwarm, { state: 'swarm', id: A, manager: false, detail: `node ${A} (worker)` });
    const mgr = ownNodeFromInfo({ Name: 'm', Swarm: { NodeID: A, LocalNodeState: 'active', ControlAvailable: true } });
    assert.equal(mgr.manager, true);
    assert.equal(ownNodeFromInfo({ Name: 'h', Swarm: { NodeID: '', LocalNodeState: 'inactive' } }).state, 'no_swarm');
    assert.equal(ownNodeFromInfo({ Name: 'h' }).state, 'no_swarm'); // a daemon without Swarm mode at all
    for (const state of ['pending', 'error', 'locked'])
      assert.equal(ownNodeFromInfo({ Name: 'h', Swarm: { NodeID: A, LocalNodeState: state } }).state, 'unknown');
  });

  it('acts on its own node, refuses another node with both ids, and accepts unlabelled alerts unless required', () => {
    assert.deepEqual(judgeAlertNode({ alertname: 'X', node: A }, auto, inSwarm), { ok: true });
    const other = judgeAlertNode({ alertname: 'X', node: B }, auto, inSwarm);
    assert.ok(!other.ok && 'refused' in other);
    assert.equal(other.refused, 'other_node');
    assert.equal(other.alertNode, B);
    assert.equal(other.ownNode, A);
    assert.match(other.detail, new RegExp(`node="${B}".*runs on node ${A}`));
    // The single-host stack on a one-node Swarm has no node relabeling: its alerts keep working.
    assert.deepEqual(judgeAlertNode({ alertname: 'X' }, auto, inSwarm), { ok: true });
    const strict = judgeAlertNode({ alertname: 'X' }, { ...auto, required: true }, inSwarm);
    assert.ok(!strict.ok && 'refused' in strict && strict.refused === 'no_node_label');
  });

  it('outside a Swarm accepts every alert, as before; with the node unknown only unlabelled ones are decided', () => {
    const single = ownNodeFromInfo({ Name: 'h', Swarm: { NodeID: '', LocalNodeState: 'inactive' } });
    assert.deepEqual(judgeAlertNode({ node: B }, auto, single), { ok: true });
    const unknown = { state: 'unknown' as const, detail: 'Docker did not say (GET /info: ECONNREFUSED)' };
    assert.deepEqual(judgeAlertNode({ alertname: 'X' }, auto, unknown), { ok: true });
    const v = judgeAlertNode({ node: A }, auto, unknown);
    assert.ok(!v.ok && 'unknown' in v);
    assert.match(v.unknown, /ECONNREFUSED/);
    assert.deepEqual(judgeAlertNode({ node: B }, { ...auto, scope: { kind: 'off' } }, inSwarm), { ok: true });
  });

  it('a fixed node id stands when Docker cannot tell, and a Docker that names another node makes it unknown', () => {
    const fixed = { kind: 'fixed' as const, id: A };
    assert.equal(applyScope(fixed, { state: 'unknown', detail: 'down' }).id, A);
    assert.equal(applyScope(fixed, inSwarm).state, 'swarm');
    const clash = applyScope(fixed, ownNodeFromInfo({ Name: 'b', Swarm: { NodeID: B, LocalNodeState: 'active' } }));
    assert.equal(clash.state, 'unknown');
    assert.match(clash.detail, /names node a+1 but this Docker is node b+2/);
    assert.deepEqual(parseNodeScope('auto'), { kind: 'auto' });
    assert.deepEqual(parseNodeScope(A), fixed);
    assert.equal(parseNodeScope('gpu-node-1'), null);
  });
});

describe('node scope: configuration', () => {
  it('defaults to auto with the node label, not required; env overrides it', () => {
    const { cfg } = loadRemediatorConfig('');
    assert.equal(cfg.node_scope, 'auto');
    assert.equal(cfg.node_label, 'node');
    assert.equal(cfg.require_node_label, false);
    assert.equal(loadRemediatorConfig('', { SENTINEL_REMEDIATOR_NODE_SCOPE: A }).cfg.node_scope, A);
  });

  it('lists every problem at once, each with its fix', () => {
    let err: unknown;
    try {
      loadRemediatorConfig('remediator:\n  node_scope: gpu-1\n  node_label: 1node\n  require_node_label: maybe\n');
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof ConfigError, String(err));
    const paths = err.issues.map((i) => i.path).sort();
    assert.deepEqual(paths, ['remediator.node_label', 'remediator.node_scope', 'remediator.require_node_label']);
    const scope = err.issues.find((i) => i.path === 'remediator.node_scope')!;
    assert.match(scope.problem, /"gpu-1" is not auto, off, fleet or a Swarm node id/);
    assert.match(scope.fix, /docker node inspect self/);
  });
});

describe('node scope: explain', () => {
  const yaml = (scope: string, extra = '') => `
ollama:
  - {name: main, url: "http://127.0.0.1:1", container: {swarm: {service: ollama, stack: fleet}}}
remediator:
  node_scope: ${scope}
${extra}  rules:
    - {name: r, match: {alertname: OllamaProbeHung}, ladder: [reload]}
`;
  const explain = (scope: string, labels: Record<string, string>, extra = '') => {
    const { all, cfg } = loadRemediatorConfig(yaml(scope, extra));
    return explainAlert(cfg, all.ollama, compileRules(cfg.rules), new Map(), labels, Date.now());
  };

  it("says which node's remediator acts, and refuses another node's alert under a fixed id", () => {
    const here = explain(A, { alertname: 'OllamaProbeHung', ollama: 'main', node: A });
    assert.match(here.node!, new RegExp(`this node, ${A}`));
    assert.match(here.verdict, /would diagnose/);
    const there = explain(A, { alertname: 'OllamaProbeHung', ollama: 'main', node: B });
    assert.ok('refused' in there.target && there.target.refused === 'other_node');
    assert.match(there.verdict, /refused \(other_node\)/);
    const auto = explain('auto', { alertname: 'OllamaProbeHung', ollama: 'main', node: B });
    assert.match(auto.node!, new RegExp(`only by the remediator on Swarm node "${B}".*other_node`));
    const single = explain('auto', { alertname: 'OllamaProbeHung', ollama: 'main' });
    assert.equal(single.node, undefined, 'a single host sees no node line');
    const strict = explain('auto', { alertname: 'OllamaProbeHung', ollama: 'main' }, '  require_node_label: true\n');
    assert.match(strict.node!, /no_node_label/);
  });
});

describe('node scope: silences', () => {
  it("silence only the alert's node: the same target name runs on every node", async () => {
    const h = makeHarness({ withSilencer: true });
    try {
      h.ports.obs = () => CONDITIONS_OBS.gpuAccessLost();
      await h.send({ labels: { alertname: 'OllamaBroken', ollama: 'main', node: A } });
      assert.deepEqual(h.silences.created[0]!.matchers, [
        { name: 'alertname', value: 'OllamaBroken' },
        { name: 'ollama', value: 'main' },
        { name: 'node', value: A },
      ]);
    } finally {
      await h.dispose();
    }
  });
});
