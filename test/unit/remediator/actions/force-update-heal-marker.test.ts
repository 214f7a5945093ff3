// node_scope fleet: force_update_service names its incident on the service (label ollama-sentinel.heal) in the same
// update, so that a remediator on another manager (after a fail-over: none of the first one's journal, the firing
// alerts sent again) never restarts the fleet a second time for it. The Docker API is faked at the HTTP level.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ActionRequest } from '../../../../remediator/actions/action.js';
import { HEAL_LABEL } from '../../../../remediator/actions/force-update-service.js';
import { runAction } from '../../../../remediator/actions/run-action.js';
import type { OllamaTargetConfig } from '../../../../shared/config/types.js';
import { testDeps } from '../../../helpers/action-test-deps.js';
import { startFakeDockerEngine } from '../../../helpers/fake-docker-engine.js';
import { fakeSwarmManager } from '../../../helpers/fake-swarm-manager.js';

const target: OllamaTargetConfig = {
  name: 'main',
  url: 'http://127.0.0.1:1',
  headers: {},
  container: { kind: 'swarm', stack: 'fleet', service: 'ollama' },
};
const STACK = { 'com.docker.stack.namespace': 'fleet' };
const MARKER = 'OllamaProbeHung main 2026-12-01T11:58:00.000Z';

function request(over: Partial<ActionRequest> = {}): ActionRequest {
  return {
    action: 'force_update_service',
    target,
    dryRun: false,
    signal: AbortSignal.timeout(20_000),
    incidentId: 'inc-1',
    healMarker: MARKER,
    ...over,
  };
}

describe('force_update_service: the fleet heal marker', () => {
  it('absent: one update, at the inspected index, carrying ForceUpdate+1 and the marker label', async (t) => {
    const s = fakeSwarmManager();
    const engine = await startFakeDockerEngine(s.route);
    t.after(() => engine.close());
    const result = await runAction(request(), testDeps(engine.docker));
    assert.equal(result.outcome, 'done', result.detail);
    assert.equal(s.state.updates.length, 1);
    assert.equal(s.state.updates[0]!.query.get('version'), '10');
    const body = s.state.updates[0]!.body as { Labels: Record<string, string>; TaskTemplate: { ForceUpdate: number } };
    assert.equal(body.TaskTemplate.ForceUpdate, 1);
    assert.deepEqual(body.Labels, { 'com.docker.stack.namespace': 'fleet', [HEAL_LABEL]: MARKER }, 'labels kept');
    assert.ok(result.calls.some((c) => c.includes(`label ${HEAL_LABEL}=${JSON.stringify(MARKER)}`)));
  });

  it('present with this incident: no update, done as "already done by another remediator"', async (t) => {
    const s = fakeSwarmManager({ force: 4, labels: { ...STACK, [HEAL_LABEL]: MARKER } });
    const engine = await startFakeDockerEngine(s.route);
    t.after(() => engine.close());
    const result = await runAction(request(), testDeps(engine.docker));
    assert.equal(result.outcome, 'done');
    assert.match(result.detail, /already done by another remediator: fleet_ollama carries ollama-sentinel\.heal=/);
    assert.equal(s.state.updates.length, 0);
    assert.ok(engine.requests.every((r) => r.method === 'GET'));
  });

  it("present while the other manager's rolling restart still runs: waited out as this step's own, then done", async (t) => {
    // So the alerts that restart causes (a node's API down while its task restarts) fall within this step and are not
    // a new fleet-wide fault to restart the fleet for again.
    const s = fakeSwarmManager({ force: 4, labels: { ...STACK, [HEAL_LABEL]: MARKER }, rollingTaskLists: 3 });
    const engine = await startFakeDockerEngine(s.route);
    t.after(() => engine.close());
    const result = await runAction(request(), testDeps(engine.docker));
    assert.equal(result.outcome, 'done', result.detail);
    assert.match(result.detail, /already done by another remediator: .*; converged$/);
    assert.equal(s.state.updates.length, 0);
    // The first read (its own-container check) and two polls still saw the old counter; the third saw it done.
    assert.equal(engine.requests.filter((r) => r.path.endsWith('/tasks')).length, 4, 'polled until the tasks moved on');
  });

  it("another incident's marker, or none asked for (node scope), does not stop the update", async (t) => {
    const s = fakeSwarmManager({ labels: { ...STACK, [HEAL_LABEL]: 'OllamaApiDown main 2026-11-30T08:00:00.000Z' } });
    const engine = await startFakeDockerEngine(s.route);
    t.after(() => engine.close());
    assert.equal((await runAction(request(), testDeps(engine.docker))).outcome, 'done');
    assert.equal(s.state.labels[HEAL_LABEL], MARKER);
    const { healMarker: _, ...plain } = request();
    assert.equal((await runAction(plain, testDeps(engine.docker))).outcome, 'done');
    assert.equal(s.state.applied, 2);
    assert.equal(s.state.labels[HEAL_LABEL], MARKER, 'a node-scope update leaves the label as it was');
  });

  it('two managers at once, both reading the same index: exactly one update is applied, the other stands down', async (t) => {
    // Both inspects are answered only once both arrived: both see Version.Index 10 and no marker.
    const s = fakeSwarmManager({ holdInspectsUntil: 2 });
    const engine = await startFakeDockerEngine(s.route);
    t.after(() => engine.close());
    const [one, two] = await Promise.all([
      runAction(request({ incidentId: 'inc-on-manager-1' }), testDeps(engine.docker)),
      runAction(request({ incidentId: 'inc-on-manager-2' }), testDeps(engine.docker)),
    ]);
    assert.equal(s.state.applied, 1, 'the fleet restarted once');
    assert.equal(s.state.force, 1);
    assert.deepEqual(
      s.state.updates.map((u) => u.query.get('version')),
      ['10', '10'],
      'the second update was fenced out by the index',
    );
    assert.equal(one.outcome, 'done');
    assert.equal(two.outcome, 'done');
    const standDown = [one, two].filter((r) => /already done by another remediator/.test(r.detail));
    assert.equal(standDown.length, 1, [one.detail, two.detail].join('\n'));
  });
});
