/**
 * kill_orphans proves ownership before any signal: through the target history (containers seen as the target's,
 * kept on disk across restarts), never through "this Docker Engine does not know the container" alone.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OllamaTargetConfig } from '../../../../shared/config/types.js';
import type { ComputeApp } from '../../../../shared/gpu/parse-compute-apps.js';
import type { ActionDeps, ActionRequest } from '../../../../remediator/actions/action.js';
import { runAction } from '../../../../remediator/actions/run-action.js';
import { HISTORY_FILE, TargetHistory } from '../../../../remediator/state/target-history.js';
import { startFakeDockerEngine, type FakeDockerEngine } from '../../../helpers/fake-docker-engine.js';
import { FAKE_BOOT_ID, FakeProc } from '../../../helpers/fake-proc.js';
import { testDeps } from '../../../helpers/action-test-deps.js';

const TARGET = '1'.repeat(64);
const FOREIGN = '4'.repeat(64); // a container of another daemon: this one answers 404
const GPU = 'GPU-f88d2996-314d-4abe-0c94-acc6aa417694';
const main: OllamaTargetConfig = {
  name: 'main',
  url: 'http://127.0.0.1:1',
  headers: {},
  container: { kind: 'compose', project: 'ai', service: 'ollama' },
};
const hostTarget: OllamaTargetConfig = { name: 'local', url: 'http://127.0.0.1:2', headers: {} };
const runner = (port: number) => ['/usr/bin/ollama', 'runner', '--model', '/m/sha256-x', '--port', String(port)];
const app = (pid: number): ComputeApp => ({
  gpuUuid: GPU,
  pid,
  processName: '/usr/bin/ollama',
  usedMemoryBytes: 1 << 30,
});
const ollama = (over: { ppid: number; startTime: number; argv: string[]; nsPids: number[] }) => ({
  comm: 'ollama',
  exe: '/usr/bin/ollama',
  ...over,
});

interface World {
  proc: FakeProc;
  engine: FakeDockerEngine;
  dataDir: string;
  /** Whether Docker lists TARGET as the target's running container. */
  listed: { target: boolean };
}

async function world(t: TestContext): Promise<World> {
  const proc = await FakeProc.create();
  const dataDir = await mkdtemp(join(tmpdir(), 'sentinel-history-'));
  const listed = { target: true };
  const engine = await startFakeDockerEngine((r) => {
    if (r.method === 'GET' && r.path === '/containers/json') {
      const labels = { 'com.docker.compose.project': 'ai', 'com.docker.compose.service': 'ollama' };
      return { status: 200, json: listed.target ? [{ Id: TARGET, Names: ['/ai-ollama-1'], Labels: labels }] : [] };
    }
    if (listed.target && r.path === `/containers/${TARGET}/json`) {
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
    return undefined; // 404: gone, or never this daemon's
  });
  t.after(async () => {
    await engine.close();
    await proc.dispose();
    await rm(dataDir, { recursive: true, force: true });
  });
  return { proc, engine, dataDir, listed };
}

const openHistory = (dir: string, targets: OllamaTargetConfig[] = [main]) =>
  TargetHistory.open(dir, targets, { now: () => Date.now(), warn: () => undefined });

function request(action: 'kill_runner' | 'kill_orphans', target = main): ActionRequest {
  return { action, target, dryRun: false, signal: AbortSignal.timeout(20_000), incidentId: 'inc-1' };
}

function depsOf(w: World, apps: ComputeApp[], sent: string[], over: Partial<ActionDeps> = {}): ActionDeps {
  return testDeps(w.engine.docker, {
    procRoot: w.proc.root,
    queryComputeApps: async () => apps,
    kill: (pid, sig) => {
      sent.push(`${sig} ${pid}`);
      if (sig === 'SIGTERM') void w.proc.remove(pid);
    },
    ...over,
  });
}

test('a runner served by a live server in a container this Docker does not know is never signalled', async (t) => {
  const w = await world(t);
  // Another daemon's container (rootless Docker, Docker-in-Docker, a second dockerd): server + runner, 404 here.
  await w.proc.add(500, {
    ...ollama({ ppid: 1, startTime: 50, argv: ['/usr/bin/ollama', 'serve'], nsPids: [500, 1] }),
    containerId: FOREIGN,
  });
  await w.proc.add(501, {
    ...ollama({ ppid: 500, startTime: 51, argv: runner(1), nsPids: [501, 7] }),
    containerId: FOREIGN,
  });
  const history = await openHistory(w.dataDir);
  const sent: string[] = [];
  for (const action of ['kill_orphans', 'kill_runner'] as const) {
    const result = await runAction(request(action), depsOf(w, [app(500), app(501)], sent, { history }));
    assert.equal(result.outcome, 'skipped', result.detail);
    assert.match(
      result.detail,
      action === 'kill_orphans'
        ? /PID 501: child of a live ollama serve/
        : /PID 501: runner of container 444444444444, not of the target/,
    );
  }
  assert.deepEqual(sent, []);
  assert.ok(
    !w.engine.requests.some((r) => r.path.includes(FOREIGN)),
    'a served runner does not even make Docker be asked',
  );
});

test('an orphan of a container never seen as the target is escalated: failed, nothing signalled', async (t) => {
  const w = await world(t);
  await w.proc.add(601, {
    ...ollama({ ppid: 1, startTime: 61, argv: runner(1), nsPids: [601, 7] }),
    containerId: FOREIGN,
  });
  const sent: string[] = [];
  const history = await openHistory(w.dataDir);
  for (const deps of [depsOf(w, [app(601)], sent, { history }), depsOf(w, [app(601)], sent)]) {
    const result = await runAction(request('kill_orphans'), deps);
    assert.equal(result.outcome, 'failed', result.detail);
    assert.match(result.detail, /^refused: cannot prove ownership of 1 runner\(s\), nothing signalled/);
    assert.match(result.detail, /NOT PROVEN the target's, escalate: PID 601: .*never seen as this target's/);
  }
  assert.deepEqual(sent, []);
});

test('the history survives a restart: an orphan of a removed container seen before is killed, only with it', async (t) => {
  const w = await world(t);
  // Run 1: kill_runner lists the target's containers: TARGET goes into the history on disk.
  const first = await openHistory(w.dataDir);
  const sent: string[] = [];
  const none = await runAction(request('kill_runner'), depsOf(w, [], sent, { history: first }));
  assert.equal(none.outcome, 'skipped', none.detail);
  await first.flushed();
  const file = JSON.parse(await readFile(join(w.dataDir, HISTORY_FILE), 'utf8')) as {
    targets: Record<string, { containers: { id: string }[] }>;
  };
  assert.deepEqual(
    file.targets.main!.containers.map((c) => c.id),
    [TARGET],
  );

  // Then the container is removed (404 now) and its runner is left behind, reparented to init.
  w.listed.target = false;
  await w.proc.add(701, {
    ...ollama({ ppid: 1, startTime: 71, argv: runner(1), nsPids: [701, 7] }),
    containerId: TARGET,
  });

  // A fresh remediator without that history must not kill it...
  const empty = await mkdtemp(join(tmpdir(), 'sentinel-history-'));
  t.after(() => rm(empty, { recursive: true, force: true }));
  const refused = await runAction(
    request('kill_orphans'),
    depsOf(w, [app(701)], sent, { history: await openHistory(empty) }),
  );
  assert.equal(refused.outcome, 'failed', refused.detail);
  assert.deepEqual(sent, []);

  // ...a restarted one that reads it back does.
  const result = await runAction(
    request('kill_orphans'),
    depsOf(w, [app(701)], sent, { history: await openHistory(w.dataDir) }),
  );
  assert.equal(result.outcome, 'done', result.detail);
  assert.deepEqual(sent, ['SIGTERM 701']);
  assert.match(result.detail, /its container 111111111111 \(seen as the target's until .*\) no longer exists/);
});

test('isDockerCgroup: a recorded id in a Podman cgroup, unknown to Docker, is escalated, never killed', async (t) => {
  const w = await world(t);
  w.listed.target = false;
  const history = await openHistory(w.dataDir);
  await history.seenContainers('main', [TARGET]);
  await w.proc.add(801, {
    ...ollama({ ppid: 1, startTime: 81, argv: runner(1), nsPids: [801, 7] }),
    cgroup: `0::/machine.slice/libpod-${TARGET}.scope\n`,
  });
  const sent: string[] = [];
  const result = await runAction(request('kill_orphans'), depsOf(w, [app(801)], sent, { history }));
  assert.equal(result.outcome, 'failed', result.detail);
  assert.match(
    result.detail,
    /PID 801: container 111111111111 \(seen as .*\) is unknown to Docker, but its cgroup is podman's/,
  );
  assert.deepEqual(sent, []);
});

test('host target with no host server: kill_orphans does not take every host runner', async (t) => {
  const w = await world(t);
  // A host runner whose server is gone (parent: init), and one in an LXC container (no Docker id, not the host).
  await w.proc.add(901, ollama({ ppid: 1, startTime: 9100, argv: runner(1), nsPids: [901] }));
  await w.proc.add(902, {
    ...ollama({ ppid: 1, startTime: 9200, argv: runner(2), nsPids: [902, 40] }),
    cgroup: '0::/lxc.payload.ai/system.slice/ollama.service\n',
  });
  const apps = [app(901), app(902)];
  const sent: string[] = [];

  // Nothing recorded for the target: escalated.
  const history = await openHistory(w.dataDir, [main, hostTarget]);
  const unrecorded = await runAction(request('kill_orphans', hostTarget), depsOf(w, apps, sent, { history }));
  assert.equal(unrecorded.outcome, 'failed', unrecorded.detail);
  assert.match(unrecorded.detail, /PID 902: runner of a lxc cgroup that is not the host's/);

  // Its server, seen by an earlier action in this boot, started before the runner: the one host target's orphan.
  await w.proc.add(900, ollama({ ppid: 1, startTime: 9000, argv: ['/usr/bin/ollama', 'serve'], nsPids: [900] }));
  const one = await openHistory(w.dataDir, [main, hostTarget]);
  await runAction(request('kill_runner', hostTarget), depsOf(w, [], sent, { history: one }));
  assert.deepEqual(one.hostServers('local'), [{ pid: 900, startTime: 9000, bootId: FAKE_BOOT_ID }]);
  await w.proc.remove(900);
  const result = await runAction(request('kill_orphans', hostTarget), depsOf(w, apps, sent, { history: one }));
  assert.equal(result.outcome, 'done', result.detail);
  assert.deepEqual(sent, ['SIGTERM 901']);
  assert.match(result.detail, /started after its ollama serve PID 900/);
});
