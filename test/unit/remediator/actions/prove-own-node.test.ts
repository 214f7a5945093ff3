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
const plain: OllamaTargetConfig = {
  name: 'main',
  url: 'http://127.0.0.1:1',
  headers: {},
  container: { kind: 'container', name: 'ollama' },
};
const swarm: OllamaTargetConfig = { ...plain, container: { kind: 'swarm', stack: 'fleet', service: 'ollama' } };

const request = (action: ActionRequest['action'], target: OllamaTargetConfig): ActionRequest => ({
  action,
  target,
  dryRun: false,
  signal: AbortSignal.timeout(20_000),
  incidentId: 'inc-n',
});
const node = (n: OwnNode) => ({ ownNode: async () => n });
const worker: OwnNode = { state: 'swarm', id: A, manager: false, detail: `node ${A} (worker)` };

/** One container "ollama" whose labels say it is a Swarm task of node `on`; restarts bump its start time. */
function daemon(on: string) {
  let started = 1;
  const labels = { 'com.docker.swarm.node.id': on };
  return (r: EngineRequest) => {
    if (r.method === 'GET' && r.path === '/containers/json')
      return { status: 200, json: [{ Id: 'c1', Names: ['/ollama'], Labels: labels, State: 'running' }] };
    if (r.method === 'GET' && r.path === '/containers/c1/json')
      return {
        status: 200,
        json: {
          Id: 'c1',
          Name: '/ollama',
          Config: { Image: 'ollama/ollama', Labels: labels },
          State: { Running: true, Status: 'running', StartedAt: `2026-12-01T10:00:0${started}Z`, Pid: 77 },
        },
      };
    if (r.method === 'POST' && r.path === '/containers/c1/restart') {
      started++;
      return { status: 204 };
    }
    return undefined;
  };
}

describe("container-level steps act only on this node's containers", () => {
  it("refuses a container labelled for another node, and one whose node cannot be proven; restarts this node's", async (t) => {
    const engine = await startFakeDockerEngine(daemon(B));
    t.after(() => engine.close());
    const other = await runAction(request('restart_container', plain), testDeps(engine.docker, node(worker)));
    assert.equal(other.outcome, 'failed');
    assert.match(
      other.detail,
      new RegExp(`ollama belongs to node ${B} \\(com.docker.swarm.node.id\\), this is node ${A}`),
    );
    assert.ok(
      other.calls.some((c) => c.startsWith('GET /info')),
      'the node read is in the calls log',
    );
    const unknown = await runAction(
      request('restart_container', plain),
      testDeps(engine.docker, node({ state: 'unknown', detail: 'Docker did not say' })),
    );
    assert.equal(unknown.outcome, 'failed');
    assert.match(unknown.detail, /cannot prove it runs here/);
    assert.ok(
      engine.requests.every((r) => r.method === 'GET'),
      'nothing restarted',
    );

    const own = await runAction(
      request('restart_container', plain),
      testDeps(engine.docker, node({ ...worker, id: B, detail: `node ${B} (worker)` })),
    );
    assert.equal(own.outcome, 'done', own.detail);
    assert.match(
      own.detail,
      new RegExp(`\\[on this node ${B}: listed by its Docker, com.docker.swarm.node.id = ${B}\\]`),
    );
    assert.equal(engine.requests.filter((r) => r.method === 'POST').length, 1);
  });
});

describe('service-level steps need a manager', () => {
  it('refuses force_update_service, redeploy_stack and a Swarm recreate on a worker before any Docker call', async (t) => {
    const engine = await startFakeDockerEngine(() => undefined);
    t.after(() => engine.close());
    const stackTarget: OllamaTargetConfig = {
      ...swarm,
      container: { kind: 'swarm', stack: 'fleet', service: 'ollama', stack_file: '/etc/hostname' },
    };
    for (const [action, target] of [
      ['force_update_service', swarm],
      ['redeploy_stack', stackTarget],
      ['recreate_container', swarm],
    ] as const) {
      const r = await runAction(request(action, target), testDeps(engine.docker, node(worker)));
      assert.equal(r.outcome, 'skipped', action);
      assert.match(
        r.detail,
        new RegExp(`refused on a Swarm worker \\(node ${A} \\(worker\\)\\): ${action} .*needs a manager`),
      );
    }
    assert.equal(engine.requests.length, 0);

    // On a manager the step goes on to the services API (here: no such service).
    const manager = { ...worker, manager: true, detail: `node ${A} (manager)` };
    const r = await runAction(request('force_update_service', swarm), testDeps(engine.docker, node(manager)));
    assert.match(r.detail, /no Swarm service fleet_ollama/);
  });
});
