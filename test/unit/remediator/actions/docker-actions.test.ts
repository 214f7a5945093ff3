import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OllamaTargetConfig } from '../../../../shared/config/types.js';
import type { ActionRequest } from '../../../../remediator/actions/action.js';
import { actionHappened } from '../../../../remediator/actions/action-happened.js';
import { runAction } from '../../../../remediator/actions/run-action.js';
import { startFakeDockerEngine, type EngineRequest } from '../../../helpers/fake-docker-engine.js';
import { testDeps } from '../../../helpers/action-test-deps.js';

const swarmTarget: OllamaTargetConfig = {
  name: 'main',
  url: 'http://127.0.0.1:1',
  headers: {},
  container: { kind: 'swarm', stack: 'ai', service: 'ollama' },
};
const composeTarget: OllamaTargetConfig = {
  name: 'main',
  url: 'http://127.0.0.1:1',
  headers: {},
  container: { kind: 'compose', project: 'ai', service: 'ollama' },
};

function request(
  action: ActionRequest['action'],
  target: OllamaTargetConfig,
  over: Partial<ActionRequest> = {},
): ActionRequest {
  return { action, target, dryRun: false, signal: AbortSignal.timeout(20_000), incidentId: 'inc-2', ...over };
}

/** A one-replica Swarm service whose first update attempt loses the race against a rolling update. */
function swarm() {
  const state = {
    version: 10,
    force: 2,
    spec: {
      Name: 'ai_ollama',
      Labels: { 'com.docker.stack.namespace': 'ai' },
      TaskTemplate: {
        ContainerSpec: { Image: '127.0.0.1:5000/ollama@sha256:abc', Env: ['OLLAMA_KEEP_ALIVE=-1'] },
        ForceUpdate: 2,
      },
      Mode: { Replicated: { Replicas: 1 } },
      UpdateConfig: { Parallelism: 1, Delay: 0 },
    } as Record<string, unknown> & { TaskTemplate: Record<string, unknown> },
    taskForce: 2,
    updates: [] as EngineRequest[],
    outOfSequenceOnce: true,
  };
  const route = (r: EngineRequest) => {
    if (r.method === 'GET' && (r.path === '/services/ai_ollama' || r.path === '/services/svc1')) {
      return {
        status: 200,
        json: {
          ID: 'svc1',
          Version: { Index: state.version },
          Spec: { ...state.spec, TaskTemplate: { ...state.spec.TaskTemplate, ForceUpdate: state.force } },
          UpdateStatus: { State: 'completed' },
        },
      };
    }
    if (r.method === 'GET' && r.path === '/tasks') {
      return {
        status: 200,
        json: [
          {
            ID: `task-${state.taskForce}`,
            ServiceID: 'svc1',
            DesiredState: 'running',
            Spec: { ForceUpdate: state.taskForce },
            Status: { State: 'running', ContainerStatus: { ContainerID: 'f'.repeat(64) } },
          },
        ],
      };
    }
    if (r.method === 'POST' && r.path === '/services/svc1/update') {
      state.updates.push(r);
      if (state.outOfSequenceOnce) {
        // a rolling update bumped the index meanwhile
        state.outOfSequenceOnce = false;
        state.version = 11;
        return { status: 500, json: { message: 'rpc error: code = Unknown desc = update out of sequence' } };
      }
      if (Number(r.query.get('version')) !== state.version)
        return { status: 500, json: { message: 'update out of sequence' } };
      const body = r.body as { TaskTemplate: { ForceUpdate: number } };
      state.force = body.TaskTemplate.ForceUpdate;
      state.taskForce = state.force;
      state.version += 1;
      return { status: 200, json: { Warnings: null } };
    }
    return undefined;
  };
  return { state, route };
}

test('force_update_service: full spec, ForceUpdate+1, retried at the fresh index, converged, provable afterwards', async (t) => {
  const s = swarm();
  const engine = await startFakeDockerEngine(s.route);
  t.after(() => engine.close());
  const deps = testDeps(engine.docker);
  const result = await runAction(request('force_update_service', swarmTarget), deps);

  assert.equal(result.outcome, 'done', result.detail);
  assert.match(result.detail, /ForceUpdate 2 -> 3, converged with task\(s\) task-3/);
  assert.equal(s.state.updates.length, 2);
  assert.deepEqual(
    s.state.updates.map((u) => u.query.get('version')),
    ['10', '11'],
  );
  const body = s.state.updates[1]!.body as Record<string, unknown> & { TaskTemplate: Record<string, unknown> };
  // the whole spec travels (a partial one would replace everything), with only the counter changed
  assert.deepEqual(body, { ...s.state.spec, TaskTemplate: { ...s.state.spec.TaskTemplate, ForceUpdate: 3 } });
  assert.deepEqual([...s.state.updates[1]!.query.keys()], ['version'], 'nothing but the version in the URL');
  assert.deepEqual(result.before, {
    service: 'ai_ollama',
    serviceId: 'svc1',
    version: 10,
    forceUpdate: 2,
    taskIds: ['task-2'],
  });

  assert.equal(await actionHappened('force_update_service', result.before!, swarmTarget, deps), true);
  assert.equal(
    await actionHappened('force_update_service', { ...result.before!, forceUpdate: 3 }, swarmTarget, deps),
    false,
  );
  assert.equal(await actionHappened('force_update_service', { nonsense: true }, swarmTarget, deps), null);
});

test('force_update_service dry-run and self-protection send no update', async (t) => {
  const s = swarm();
  const engine = await startFakeDockerEngine(s.route);
  t.after(() => engine.close());
  const dry = await runAction(request('force_update_service', swarmTarget, { dryRun: true }), testDeps(engine.docker));
  assert.equal(dry.outcome, 'skipped');
  assert.ok(
    dry.calls.includes('would POST /services/svc1/update?version=10 (full spec, TaskTemplate.ForceUpdate 2 -> 3)'),
    dry.calls.join('\n'),
  );

  const own = await runAction(
    request('force_update_service', swarmTarget),
    testDeps(engine.docker, { self: { pid: 1, containerId: null, swarmService: 'ai_ollama' } }),
  );
  assert.equal(own.outcome, 'failed');
  assert.match(own.detail, /remediator's own service/);

  const ownTask = await runAction(
    request('force_update_service', swarmTarget),
    testDeps(engine.docker, { self: { pid: 1, containerId: 'f'.repeat(64) } }),
  );
  assert.equal(ownTask.outcome, 'failed');
  assert.match(ownTask.detail, /remediator's own container/);

  const ownStack = await runAction(
    request('redeploy_stack', {
      ...swarmTarget,
      container: { kind: 'swarm', stack: 'ai', service: 'ollama', stack_file: '/etc/hostname' },
    }),
    testDeps(engine.docker, { self: { pid: 1, containerId: null, stack: 'ai' } }),
  );
  assert.equal(ownStack.outcome, 'failed');
  assert.match(ownStack.detail, /remediator's own stack/);

  assert.equal(s.state.updates.length, 0);
  assert.ok(engine.requests.every((r) => r.method === 'GET'));
});

test('force_update_service on a non-Swarm target is skipped; a missing service fails', async (t) => {
  const engine = await startFakeDockerEngine(() => undefined);
  t.after(() => engine.close());
  const skipped = await runAction(request('force_update_service', composeTarget), testDeps(engine.docker));
  assert.equal(skipped.outcome, 'skipped');
  const missing = await runAction(request('force_update_service', swarmTarget), testDeps(engine.docker));
  assert.equal(missing.outcome, 'failed');
  assert.match(missing.detail, /no Swarm service ai_ollama/);
});

/** Two Compose containers of the service plus a `compose run` one-off carrying the same labels. */
function compose() {
  const labels = (oneoff: boolean) => ({
    'com.docker.compose.project': 'ai',
    'com.docker.compose.service': 'ollama',
    'com.docker.compose.oneoff': oneoff ? 'True' : 'False',
  });
  const containers = new Map([
    ['c1', { name: 'ai-ollama-1', startedAt: '2026-01-01T00:00:00.1Z', labels: labels(false) }],
    ['c2', { name: 'ai-ollama-2', startedAt: '2026-01-01T00:00:00.2Z', labels: labels(false) }],
    ['c3', { name: 'ai-ollama-run-1', startedAt: '2026-01-01T00:00:00.3Z', labels: labels(true) }],
  ]);
  let tick = 0;
  const route = (r: EngineRequest) => {
    if (r.method === 'GET' && r.path === '/containers/json') {
      return {
        status: 200,
        json: [...containers].map(([id, c]) => ({ Id: id, Names: [`/${c.name}`], Labels: c.labels, State: 'running' })),
      };
    }
    const m = /^\/containers\/(c\d)\/(json|restart|stop|start)$/.exec(r.path);
    const c = m && containers.get(m[1]!);
    if (!m || !c) return undefined;
    if (m[2] === 'json') {
      return {
        status: 200,
        json: {
          Id: m[1],
          Name: `/${c.name}`,
          Image: 'x',
          Config: { Image: 'ollama/ollama', Labels: c.labels },
          State: { Running: true, Status: 'running', Pid: 50, StartedAt: c.startedAt },
        },
      };
    }
    if (m[2] === 'restart' || m[2] === 'start') c.startedAt = `2026-01-02T00:00:0${++tick}Z`;
    return { status: 204 };
  };
  return { containers, route };
}

test('restart_container: every Compose container of the service, never the one-off, with t and new start times', async (t) => {
  const c = compose();
  const engine = await startFakeDockerEngine(c.route);
  t.after(() => engine.close());
  const deps = testDeps(engine.docker, { stopTimeoutS: 3 });
  const result = await runAction(request('restart_container', composeTarget), deps);
  assert.equal(result.outcome, 'done', result.detail);
  const posts = engine.requests.filter((r) => r.method === 'POST');
  assert.deepEqual(
    posts.map((r) => `${r.path}?t=${r.query.get('t')}`),
    ['/containers/c1/restart?t=3', '/containers/c2/restart?t=3'],
  );
  assert.match(result.detail, /ai-ollama-1: StartedAt 2026-01-01T00:00:00.1Z -> 2026-01-02T00:00:01Z/);
  const list = engine.requests.find((r) => r.path === '/containers/json')!;
  assert.equal(list.query.get('all'), 'true');
  assert.deepEqual(JSON.parse(list.query.get('filters')!), {
    label: ['com.docker.compose.project=ai', 'com.docker.compose.service=ollama'],
  });

  assert.equal(await actionHappened('restart_container', result.before!, composeTarget, deps), true);
  const fresh = {
    containers: [...c.containers].filter(([id]) => id !== 'c3').map(([id, x]) => ({ id, startedAt: x.startedAt })),
  };
  assert.equal(await actionHappened('restart_container', fresh, composeTarget, deps), false);
  assert.equal(
    await actionHappened('restart_container', { containers: [{ id: 'c9', startedAt: 'x' }] }, composeTarget, deps),
    null,
  );
});

test('recreate_container on Compose: stop then start, and says it is not a true recreate', async (t) => {
  const c = compose();
  let stopped = false;
  const engine = await startFakeDockerEngine((r) => {
    if (r.method === 'POST' && r.path === '/containers/c1/stop') stopped = true;
    if (r.method === 'GET' && r.path === '/containers/c1/json' && stopped) {
      // stopped until started again
      const x = c.containers.get('c1')!;
      const running = x.startedAt.startsWith('2026-01-02');
      return {
        status: 200,
        json: {
          Id: 'c1',
          Name: `/${x.name}`,
          Image: 'x',
          Config: { Image: 'o', Labels: x.labels },
          State: {
            Running: running,
            Status: running ? 'running' : 'exited',
            Pid: running ? 51 : 0,
            StartedAt: x.startedAt,
          },
        },
      };
    }
    return c.route(r);
  });
  t.after(() => engine.close());
  const result = await runAction(
    request('recreate_container', { ...composeTarget, container: { kind: 'container', name: 'ai-ollama-1' } }),
    testDeps(engine.docker),
  );
  assert.equal(result.outcome, 'done', result.detail);
  assert.deepEqual(
    engine.requests.filter((r) => r.method === 'POST').map((r) => r.path),
    ['/containers/c1/stop', '/containers/c1/start'],
  );
  assert.match(result.detail, /not a recreate: that needs the compose file/);
});

test('restart_container dry-run touches nothing; a target matching the remediator container is refused', async (t) => {
  const c = compose();
  const engine = await startFakeDockerEngine(c.route);
  t.after(() => engine.close());
  const dry = await runAction(request('restart_container', composeTarget, { dryRun: true }), testDeps(engine.docker));
  assert.equal(dry.outcome, 'skipped');
  assert.deepEqual(
    dry.calls.filter((x) => x.startsWith('would')),
    ['would POST /containers/c1/restart (ai-ollama-1)', 'would POST /containers/c2/restart (ai-ollama-2)'],
  );
  const own = await runAction(
    request('restart_container', composeTarget),
    testDeps(engine.docker, { self: { pid: 1, containerId: 'c2' } }),
  );
  assert.equal(own.outcome, 'failed');
  assert.match(own.detail, /remediator's own container/);
  assert.ok(engine.requests.every((r) => r.method === 'GET'));
});

test('an aborted request fails fast without calling anything', async (t) => {
  const engine = await startFakeDockerEngine(() => undefined);
  t.after(() => engine.close());
  const ac = new AbortController();
  ac.abort(new Error('shutting down'));
  const result = await runAction(
    request('restart_container', composeTarget, { signal: ac.signal }),
    testDeps(engine.docker),
  );
  assert.equal(result.outcome, 'failed');
  assert.match(result.detail, /aborted \(shutting down\)/);
  assert.equal(engine.requests.length, 0);
});
