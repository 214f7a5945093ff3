import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OllamaTargetConfig } from '../../../../shared/config/types.js';
import type { ComputeApp } from '../../../../shared/gpu/parse-compute-apps.js';
import type { ActionRequest } from '../../../../remediator/actions/action.js';
import { actionHappened } from '../../../../remediator/actions/action-happened.js';
import { runAction } from '../../../../remediator/actions/run-action.js';
import { TargetHistory } from '../../../../remediator/state/target-history.js';
import { startFakeDockerEngine, type FakeDockerEngine } from '../../../helpers/fake-docker-engine.js';
import { FakeProc } from '../../../helpers/fake-proc.js';
import { testDeps } from '../../../helpers/action-test-deps.js';

const TARGET = '1'.repeat(64);
const OTHER = '2'.repeat(64);
const GONE = '3'.repeat(64);
const GPU = 'GPU-f88d2996-314d-4abe-0c94-acc6aa417694';
const target: OllamaTargetConfig = {
  name: 'main',
  url: 'http://127.0.0.1:1',
  headers: {},
  container: { kind: 'compose', project: 'ai', service: 'ollama' },
};
const runner = (port: number) => [
  '/usr/bin/ollama',
  'runner',
  '--model',
  '/root/.ollama/models/blobs/sha256-x',
  '--port',
  String(port),
];
const app = (pid: number, name = '/usr/bin/ollama'): ComputeApp => ({
  gpuUuid: GPU,
  pid,
  processName: name,
  usedMemoryBytes: 1 << 30,
});

function inspectOf(id: string, name: string) {
  return {
    Id: id,
    Name: `/${name}`,
    Image: 'sha256:x',
    Config: { Image: 'ollama/ollama', Labels: {} },
    State: { Running: true, Pid: 100, StartedAt: '2026-01-01T00:00:00Z', Status: 'running' },
  };
}

async function world(t: import('node:test').TestContext): Promise<{ proc: FakeProc; engine: FakeDockerEngine }> {
  const proc = await FakeProc.create();
  const engine = await startFakeDockerEngine((r) => {
    if (r.method === 'GET' && r.path === '/containers/json') {
      return {
        status: 200,
        json: [
          {
            Id: TARGET,
            Names: ['/ai-ollama-1'],
            Labels: { 'com.docker.compose.project': 'ai', 'com.docker.compose.service': 'ollama' },
            State: 'running',
          },
        ],
      };
    }
    if (r.path === `/containers/${TARGET}/json`) return { status: 200, json: inspectOf(TARGET, 'ai-ollama-1') };
    if (r.path === `/containers/${OTHER}/json`) return { status: 200, json: inspectOf(OTHER, 'other') };
    return undefined; // GONE: 404
  });
  t.after(async () => {
    await engine.close();
    await proc.dispose();
  });
  // The target container: server (its PID 1), its live runner, and a runner reparented to PID 1 (orphan)
  await proc.add(100, {
    comm: 'ollama',
    ppid: 90,
    startTime: 1000,
    argv: ['/usr/bin/ollama', 'serve'],
    exe: '/usr/bin/ollama',
    containerId: TARGET,
    nsPids: [100, 1],
  });
  await proc.add(101, {
    comm: 'ollama',
    ppid: 100,
    startTime: 1100,
    argv: runner(1),
    exe: '/usr/bin/ollama',
    containerId: TARGET,
    nsPids: [101, 7],
  });
  // Another container's runner, a runner left by a removed container, a host process
  await proc.add(201, {
    comm: 'ollama',
    ppid: 200,
    startTime: 2100,
    argv: runner(2),
    exe: '/usr/bin/ollama',
    containerId: OTHER,
    nsPids: [201, 9],
  });
  await proc.add(301, {
    comm: 'ollama',
    ppid: 1,
    startTime: 3100,
    argv: runner(3),
    exe: '/usr/bin/ollama',
    containerId: GONE,
    nsPids: [301, 12],
  });
  await proc.add(401, {
    comm: 'python3',
    ppid: 1,
    startTime: 4100,
    argv: ['/usr/bin/python3', 'train.py'],
    exe: '/usr/bin/python3',
    nsPids: [401],
  });
  return { proc, engine };
}

function request(action: 'kill_runner' | 'kill_orphans', over: Partial<ActionRequest> = {}): ActionRequest {
  return { action, target, dryRun: false, signal: AbortSignal.timeout(20_000), incidentId: 'inc-1', ...over };
}

const apps = [app(100), app(101), app(201), app(301), app(401, '/usr/bin/python3')];

test('kill_runner signals only the target runner, after handing over its evidence', async (t) => {
  const { proc, engine } = await world(t);
  const sent: string[] = [];
  const order: string[] = [];
  const deps = testDeps(engine.docker, {
    procRoot: proc.root,
    queryComputeApps: async () => apps,
    kill: (pid, sig) => {
      sent.push(`${sig} ${pid}`);
      order.push('kill');
      if (sig === 'SIGTERM') void proc.remove(pid); // it exits on SIGTERM
    },
  });
  const result = await runAction(request('kill_runner', { onBefore: () => void order.push('before') }), deps);

  assert.equal(result.outcome, 'done', result.detail);
  assert.deepEqual(sent, ['SIGTERM 101']);
  assert.deepEqual(order, ['before', 'kill']);
  assert.match(result.detail, /PID 101 terminated/);
  assert.match(result.detail, /PID 100: not an Ollama model runner \(ollama_server/);
  assert.match(result.detail, /PID 201: runner of container 222222222222, not of the target/);
  const pids = (result.before as { pids: { pid: number; startTime: number }[] }).pids;
  assert.deepEqual(
    pids.map((p) => [p.pid, p.startTime]),
    [[101, 1100]],
  );
  assert.ok(result.calls.includes('kill -TERM PID 101 (start 1100, /usr/bin/ollama runner)'));

  // a restarted remediator can tell the step happened: PID 101 is gone
  assert.equal(await actionHappened('kill_runner', result.before!, target, deps), true);
});

test('kill_orphans takes the runner of a removed container and the reparented one, nothing else', async (t) => {
  const { proc, engine } = await world(t);
  await proc.add(102, {
    comm: 'ollama',
    ppid: 100,
    startTime: 1200,
    argv: runner(4),
    exe: '/usr/bin/ollama',
    containerId: TARGET,
    nsPids: [102, 8],
  });
  await proc.add(103, {
    comm: 'ollama',
    ppid: 1,
    startTime: 1300,
    argv: runner(5),
    exe: '/usr/bin/ollama',
    containerId: TARGET,
    nsPids: [103, 9],
  });
  const sent: string[] = [];
  // GONE was seen as this target's container before it was removed: that is what makes its runner the target's.
  const history = await TargetHistory.open(proc.root, [target], { now: () => Date.now(), warn: () => undefined });
  await history.seenContainers(target.name, [GONE]);
  const deps = testDeps(engine.docker, {
    procRoot: proc.root,
    history,
    queryComputeApps: async () => [...apps, app(102), app(103)],
    kill: (pid, sig) => {
      sent.push(`${sig} ${pid}`);
    },
  });
  const result = await runAction(request('kill_orphans'), deps);
  // they ignore SIGTERM (the fake /proc entries stay): SIGKILL after the grace, each re-checked first
  assert.deepEqual(sent, ['SIGTERM 301', 'SIGKILL 301', 'SIGTERM 103', 'SIGKILL 103']);
  assert.equal(result.outcome, 'failed', 'still there after SIGKILL = survived');
  assert.match(
    result.detail,
    /PID 301 survived \[its container 333333333333 \(seen as the target's until .*\) no longer exists/,
  );
  assert.match(result.detail, /PID 102: child of a live ollama serve/);
  // nothing happened from the kernel's point of view: a restarted remediator must redo it
  assert.equal(await actionHappened('kill_orphans', result.before!, target, deps), false);
});

test('dry-run lists the signals it would send and sends none', async (t) => {
  const { proc, engine } = await world(t);
  let signals = 0;
  let beforeCalls = 0;
  const deps = testDeps(engine.docker, {
    procRoot: proc.root,
    queryComputeApps: async () => apps,
    kill: () => void signals++,
  });
  const result = await runAction(request('kill_runner', { dryRun: true, onBefore: () => void beforeCalls++ }), deps);
  assert.equal(result.outcome, 'skipped');
  assert.equal(signals, 0);
  assert.equal(beforeCalls, 0);
  assert.match(result.detail, /^dry-run: would stop PID 101/);
  assert.ok(result.calls.includes('would kill -TERM PID 101 (start 1100, /usr/bin/ollama runner)'));
  assert.ok(result.calls.some((c) => c.startsWith('GET /containers/json?filters=')));
  assert.ok(
    engine.requests.every((r) => r.method === 'GET'),
    'only reads reached Docker',
  );
});

test('without the host PID view nothing is even looked up', async (t) => {
  const proc = await FakeProc.create(false);
  t.after(() => proc.dispose());
  let asked = false;
  const engine = await startFakeDockerEngine(() => undefined);
  t.after(() => engine.close());
  const deps = testDeps(engine.docker, {
    procRoot: proc.root,
    queryComputeApps: async () => {
      asked = true;
      return apps;
    },
    kill: () => assert.fail('no signal may be sent'),
  });
  const result = await runAction(request('kill_runner'), deps);
  assert.equal(result.outcome, 'skipped');
  assert.match(result.detail, /no host PID view/);
  assert.equal(asked, false);
  assert.equal(engine.requests.length, 0);
});

test('a target whose selector matches the remediator container is refused', async (t) => {
  const { proc, engine } = await world(t);
  const deps = testDeps(engine.docker, {
    procRoot: proc.root,
    self: { pid: 5, containerId: TARGET },
    queryComputeApps: async () => apps,
    kill: () => assert.fail('no signal may be sent'),
  });
  const result = await runAction(request('kill_runner'), deps);
  assert.equal(result.outcome, 'failed');
  assert.match(result.detail, /refused: .* remediator's own container/);
});

test('nvidia-smi failing fails the step with its reason, nothing signalled', async (t) => {
  const { proc, engine } = await world(t);
  const deps = testDeps(engine.docker, {
    procRoot: proc.root,
    queryComputeApps: async () => {
      throw new Error('nvidia-smi: Failed to initialize NVML: Driver/library version mismatch');
    },
    kill: () => assert.fail('no signal may be sent'),
  });
  const result = await runAction(request('kill_runner'), deps);
  assert.equal(result.outcome, 'failed');
  assert.match(result.detail, /version mismatch/);
});
