/**
 * Row 7 of issue 9: Ollama's GPU discovery processes (0.33: `lib/ollama/llama-server` without --model and
 * `ollama gpu-discover`; 0.12: `ollama runner` without --model) sit on the GPU beside the runners. Through the whole
 * kill step (fake /proc, fake Docker, the target history) none of them is ever signalled, whatever their parent.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OllamaTargetConfig } from '../../../../shared/config/types.js';
import type { ComputeApp } from '../../../../shared/gpu/parse-compute-apps.js';
import type { ActionDeps, ActionRequest } from '../../../../remediator/actions/action.js';
import { runAction } from '../../../../remediator/actions/run-action.js';
import { TargetHistory } from '../../../../remediator/state/target-history.js';
import { startFakeDockerEngine, type FakeDockerEngine } from '../../../helpers/fake-docker-engine.js';
import { FakeProc } from '../../../helpers/fake-proc.js';
import { testDeps } from '../../../helpers/action-test-deps.js';

const TARGET = '1'.repeat(64);
const GONE = '3'.repeat(64);
const GPU = 'GPU-f88d2996-314d-4abe-0c94-acc6aa417694';
const LLAMA = '/usr/lib/ollama/llama-server';
const main: OllamaTargetConfig = {
  name: 'main',
  url: 'http://127.0.0.1:1',
  headers: {},
  container: { kind: 'compose', project: 'ai', service: 'ollama' },
};
const hostTarget: OllamaTargetConfig = { name: 'local', url: 'http://127.0.0.1:2', headers: {} };

const DISCOVERY = {
  start: [LLAMA, '--port', '50123', '--host', '127.0.0.1', '--no-webui', '--offline', '--verbose'],
  list: [LLAMA, '--list-devices', '--offline', '--verbose'],
  native: ['/usr/bin/ollama', 'gpu-discover', '--lib-dir', '/usr/lib/ollama', '--lib-dir', '/usr/lib/ollama/cuda_v13'],
  old: ['/usr/bin/ollama', 'runner', '--ollama-engine', '--port', '37001'],
};
const runnerArgv = (port: number) => [
  LLAMA,
  '--model',
  '/root/.ollama/models/blobs/sha256-6e4c38e1172f42fdbff13edf9a7a017679fb82b0fde415a3e8b3c31c6ed4a4e4',
  '--port',
  String(port),
  '--host',
  '127.0.0.1',
  '--no-webui',
  '--offline',
  '-np',
  '1',
];

const app = (pid: number, name: string): ComputeApp => ({
  gpuUuid: GPU,
  pid,
  processName: name,
  usedMemoryBytes: 300 << 20,
});

interface World {
  proc: FakeProc;
  engine: FakeDockerEngine;
  history: TargetHistory;
  /** GPU rows of every planted process. */
  apps: ComputeApp[];
  /** PIDs of the discovery processes planted. */
  discovery: number[];
}

/** Adds a process to the fake /proc and the GPU list. */
async function plant(
  w: Pick<World, 'proc' | 'apps'>,
  pid: number,
  p: { ppid: number; argv: string[]; containerId?: string; nsPids: number[] },
): Promise<void> {
  const exe = p.argv[0]!;
  await w.proc.add(pid, { comm: exe.split('/').pop()!.slice(0, 15), startTime: pid * 10, exe, ...p });
  w.apps.push(app(pid, exe));
}

async function world(t: TestContext): Promise<World> {
  const proc = await FakeProc.create();
  const dataDir = await mkdtemp(join(tmpdir(), 'sentinel-history-'));
  const engine = await startFakeDockerEngine((r) => {
    if (r.method === 'GET' && r.path === '/containers/json') {
      const labels = { 'com.docker.compose.project': 'ai', 'com.docker.compose.service': 'ollama' };
      return { status: 200, json: [{ Id: TARGET, Names: ['/ai-ollama-1'], Labels: labels }] };
    }
    if (r.path === `/containers/${TARGET}/json`) {
      return {
        status: 200,
        json: {
          Id: TARGET,
          Name: '/ai-ollama-1',
          Image: 'sha256:x',
          Config: { Image: 'ollama/ollama', Labels: {} },
          State: { Running: true, Pid: 100, StartedAt: '2026-01-01T00:00:00Z', Status: 'running' },
        },
      };
    }
    return undefined; // GONE: removed, 404
  });
  const history = await TargetHistory.open(dataDir, [main, hostTarget], {
    now: () => Date.now(),
    warn: () => undefined,
  });
  // GONE was the target's container before it was removed: its leftovers are the target's orphans.
  await history.seenContainers(main.name, [GONE]);
  t.after(async () => {
    await engine.close();
    await proc.dispose();
    await rm(dataDir, { recursive: true, force: true });
  });
  const w: World = { proc, engine, history, apps: [], discovery: [] };
  const inTarget = { containerId: TARGET };
  await plant(w, 100, { ppid: 90, argv: ['/usr/bin/ollama', 'serve'], nsPids: [100, 1], ...inTarget });
  await plant(w, 101, { ppid: 100, argv: runnerArgv(41001), nsPids: [101, 7], ...inTarget });
  // Discovery under the live server, each form once, and one whose server died (reparented to the container's init).
  const served: [number, string[]][] = [
    [102, DISCOVERY.start],
    [103, DISCOVERY.list],
    [104, DISCOVERY.native],
    [105, DISCOVERY.old],
  ];
  for (const [pid, argv] of served) await plant(w, pid, { ppid: 100, argv, nsPids: [pid, pid - 90], ...inTarget });
  await plant(w, 106, { ppid: 1, argv: DISCOVERY.list, nsPids: [106, 16], ...inTarget });
  // Left in the target's removed container.
  await plant(w, 301, { ppid: 1, argv: DISCOVERY.start, nsPids: [301, 5], containerId: GONE });
  w.discovery.push(102, 103, 104, 105, 106, 301);
  return w;
}

function request(action: 'kill_runner' | 'kill_orphans', target = main): ActionRequest {
  return { action, target, dryRun: false, signal: AbortSignal.timeout(20_000), incidentId: 'inc-1' };
}

function depsOf(w: World, sent: string[], apps = w.apps): ActionDeps {
  return testDeps(w.engine.docker, {
    procRoot: w.proc.root,
    history: w.history,
    queryComputeApps: async () => apps,
    kill: (pid, sig) => {
      sent.push(`${sig} ${pid}`);
      if (sig === 'SIGTERM') void w.proc.remove(pid);
    },
  });
}

function assertLeftAlone(detail: string, pids: readonly number[]): void {
  for (const pid of pids)
    assert.match(detail, new RegExp(`PID ${pid}: not an Ollama model runner \\(ollama_discovery`));
}

test('kill_runner stops the target runner and no discovery process, served or reparented', async (t) => {
  const w = await world(t);
  const sent: string[] = [];
  const result = await runAction(request('kill_runner'), depsOf(w, sent));
  assert.equal(result.outcome, 'done', result.detail);
  assert.deepEqual(sent, ['SIGTERM 101']);
  assertLeftAlone(result.detail, w.discovery);
});

test('kill_orphans finds no orphan in reparented or left-behind discovery processes, and escalates none', async (t) => {
  const w = await world(t);
  const sent: string[] = [];
  const result = await runAction(request('kill_orphans'), depsOf(w, sent));
  assert.equal(result.outcome, 'skipped', result.detail);
  assert.deepEqual(sent, []);
  assert.doesNotMatch(result.detail, /NOT PROVEN/);
  assertLeftAlone(result.detail, w.discovery);
});

test('with only discovery processes on the GPU, both steps skip and send nothing', async (t) => {
  const w = await world(t);
  const sent: string[] = [];
  const only = w.apps.filter((a) => w.discovery.includes(a.pid));
  for (const action of ['kill_runner', 'kill_orphans'] as const) {
    const result = await runAction(request(action), depsOf(w, sent, only));
    assert.equal(result.outcome, 'skipped', `${action}: ${result.detail}`);
    assertLeftAlone(result.detail, w.discovery);
  }
  assert.deepEqual(sent, []);
});

test('host target: discovery children and orphans of the host server survive both steps', async (t) => {
  const w = await world(t);
  const host = { proc: w.proc, apps: [] as ComputeApp[] };
  await plant(host, 900, { ppid: 1, argv: ['/usr/bin/ollama', 'serve'], nsPids: [900] });
  await plant(host, 901, { ppid: 900, argv: runnerArgv(42001), nsPids: [901] });
  await plant(host, 902, { ppid: 900, argv: DISCOVERY.list, nsPids: [902] });
  await plant(host, 903, { ppid: 900, argv: DISCOVERY.native, nsPids: [903] });
  await plant(host, 904, { ppid: 1, argv: DISCOVERY.start, nsPids: [904] });
  const sent: string[] = [];
  const runner = await runAction(request('kill_runner', hostTarget), depsOf(w, sent, host.apps));
  assert.equal(runner.outcome, 'done', runner.detail);
  assert.deepEqual(sent, ['SIGTERM 901']);
  assertLeftAlone(runner.detail, [902, 903, 904]);

  // The server is gone now (its runner too): its discovery leftovers are still not orphans to kill.
  await w.proc.remove(900);
  const orphans = await runAction(request('kill_orphans', hostTarget), depsOf(w, sent, host.apps));
  assert.equal(orphans.outcome, 'skipped', orphans.detail);
  assert.deepEqual(sent, ['SIGTERM 901']);
  assertLeftAlone(orphans.detail, [902, 903, 904]);
});
