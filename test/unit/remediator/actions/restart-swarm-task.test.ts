import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ActionRequest } from '../../../../remediator/actions/action.js';
import { runAction } from '../../../../remediator/actions/run-action.js';
import type { OwnNode } from '../../../../remediator/node/own-node.js';
import type { OllamaTargetConfig } from '../../../../shared/config/types.js';
import { testDeps } from '../../../helpers/action-test-deps.js';
import { startFakeDockerEngine, type EngineRequest } from '../../../helpers/fake-docker-engine.js';

const A = 'aaaaaaaaaaaaaaaaaaaaaaaa1';
const B = 'bbbbbbbbbbbbbbbbbbbbbbbb2';
const target: OllamaTargetConfig = {
  name: 'main',
  url: 'http://127.0.0.1:1',
  headers: {},
  container: { kind: 'swarm', stack: 'fleet', service: 'ollama' },
};
const request = (over: Partial<ActionRequest> = {}): ActionRequest => ({
  action: 'restart_container',
  target,
  dryRun: false,
  signal: AbortSignal.timeout(20_000),
  incidentId: 'inc-t',
  ...over,
});
const onNode = (id: string): { ownNode: () => Promise<OwnNode> } => ({
  ownNode: async () => ({ state: 'swarm', id, manager: false, detail: `node ${id} (worker)` }),
});

/**
 * One node's Docker as Swarm leaves it: the running task container `t2`, an ended task's container `t1` kept as task
 * history, and (when `replaceHere`) the agent starting `t3` for the new task once t2 is stopped.
 */
function node(on: string, replaceHere = true) {
  const labels = {
    'com.docker.swarm.service.name': 'fleet_ollama',
    'com.docker.stack.namespace': 'fleet',
    'com.docker.swarm.node.id': on,
  };
  const containers = new Map([
    ['t1', { running: false, startedAt: '2026-12-01T09:00:00Z' }],
    ['t2', { running: true, startedAt: '2026-12-01T10:00:00Z' }],
  ]);
  const route = (r: EngineRequest) => {
    if (r.method === 'GET' && r.path === '/containers/json')
      return {
        status: 200,
        json: [...containers].map(([id, c]) => ({
          Id: id,
          Names: [`/fleet_ollama.${on}.${id}`],
          Labels: labels,
          State: c.running ? 'running' : 'exited',
        })),
      };
    const m = /^\/containers\/(t\d)\/(json|stop)$/.exec(r.path);
    const c = m && containers.get(m[1]!);
    if (!m || !c) return undefined;
    if (m[2] === 'stop') {
      c.running = false;
      if (replaceHere) containers.set('t3', { running: true, startedAt: '2026-12-01T10:05:00Z' });
      return { status: 204 };
    }
    return {
      status: 200,
      json: {
        Id: m[1],
        Name: `/fleet_ollama.${on}.${m[1]}`,
        Config: { Image: 'ollama/ollama', Labels: labels },
        State: { Running: c.running, Status: c.running ? 'running' : 'exited', StartedAt: c.startedAt, Pid: 70 },
      },
    };
  };
  return { route, containers };
}

const posts = (requests: readonly EngineRequest[]) => requests.filter((r) => r.method !== 'GET').map((r) => r.path);

describe("restart_container on a Swarm target: this node's task, replaced by Swarm", () => {
  it('stops only the running task container and waits for the new one Swarm starts on this node', async (t) => {
    const n = node(A);
    const engine = await startFakeDockerEngine(n.route);
    t.after(() => engine.close());
    const result = await runAction(request(), testDeps(engine.docker, { ...onNode(A), stopTimeoutS: 2 }));
    assert.equal(result.outcome, 'done', result.detail);
    // No services API (a worker may do it), no restart of the ended task's container, no second stop.
    assert.deepEqual(posts(engine.requests), ['/containers/t2/stop']);
    assert.equal(engine.requests.find((r) => r.path === '/containers/t2/stop')!.query.get('t'), '2');
    assert.ok(!engine.requests.some((r) => r.path.startsWith('/services') || r.path.startsWith('/tasks')));
    assert.match(
      result.detail,
      /stopped this node's task container fleet_ollama\.\S+\.t2 .*Swarm started fleet_ollama\.\S+\.t3/,
    );
    assert.match(result.detail, new RegExp(`on this node ${A}`));
  });

  it('refuses a task container labelled for another node: nothing is stopped', async (t) => {
    const engine = await startFakeDockerEngine(node(B).route);
    t.after(() => engine.close());
    const result = await runAction(request(), testDeps(engine.docker, onNode(A)));
    assert.equal(result.outcome, 'failed');
    assert.match(result.detail, new RegExp(`belongs to node ${B}.*this is node ${A}`));
    assert.deepEqual(posts(engine.requests), []);
  });

  it('fails, saying why, when Swarm places the replacement elsewhere (a replicated service)', async (t) => {
    const engine = await startFakeDockerEngine(node(A, false).route);
    t.after(() => engine.close());
    const deps = testDeps(engine.docker, onNode(A));
    const result = await runAction(request(), { ...deps, timeouts: { ...deps.timeouts, containerReadyMs: 300 } });
    assert.equal(result.outcome, 'failed');
    assert.match(result.detail, /no new task container of .* ran on this node within 300 ms/);
    assert.deepEqual(posts(engine.requests), ['/containers/t2/stop']);
  });

  it('dry-run stops nothing and says what it would stop', async (t) => {
    const engine = await startFakeDockerEngine(node(A).route);
    t.after(() => engine.close());
    const result = await runAction(request({ dryRun: true }), testDeps(engine.docker, onNode(A)));
    assert.equal(result.outcome, 'skipped');
    assert.match(result.detail, /dry-run: would stop fleet_ollama\.\S+\.t2 /);
    assert.deepEqual(posts(engine.requests), []);
  });

  it("refuses when the service's running container is the remediator's own", async (t) => {
    const engine = await startFakeDockerEngine(node(A).route);
    t.after(() => engine.close());
    const result = await runAction(
      request(),
      testDeps(engine.docker, { ...onNode(A), self: { pid: 1, containerId: 't2' } }),
    );
    assert.equal(result.outcome, 'failed');
    assert.match(result.detail, /remediator's own container/);
    assert.deepEqual(posts(engine.requests), []);
  });
});
