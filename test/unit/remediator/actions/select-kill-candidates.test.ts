import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  selectKillCandidates,
  type KillCandidateInput,
} from '../../../../remediator/actions/select-kill-candidates.js';
import {
  GONE,
  GPU,
  OTHER,
  SELF_CONTAINER,
  SERVER,
  TARGET,
  hostScope,
  input,
  mainOwns,
  onHost,
  orphanPolicy,
  proc,
  reasonFor,
  runnerArgv,
  runnerPolicy,
  self,
  unprovenFor,
} from '../../../helpers/kill-candidates.js';

test('kill_runner: only the target container runner is eligible among decoys', () => {
  const eligibleRunner = proc(1201, runnerArgv(40001));
  const decoys: KillCandidateInput[] = [
    // the server itself holds VRAM on old versions: never
    input(SERVER),
    // wrong executable: a python process with runner-like argv
    input(proc(1202, ['/usr/bin/python3', 'runner', '--model', 'x'], { exe: '/usr/bin/python3' }), {
      app: { gpuUuid: GPU, pid: 1202, processName: '/usr/bin/python3', usedMemoryBytes: 1 },
    }),
    // a runner of another container
    input(proc(1203, runnerArgv(40003), { containerId: OTHER })),
    // the discovery probe (no --model)
    input(proc(1204, ['/usr/bin/ollama', 'runner', '--ollama-engine', '--port', '5'])),
    // the remediator itself (even dressed up as a runner)
    input(proc(777, runnerArgv(40007), onHost(777))),
    // a runner inside the remediator's own container
    input(proc(1205, runnerArgv(40005), { containerId: SELF_CONTAINER })),
    // a runner that is PID 1 of its namespace
    input(proc(1206, runnerArgv(40006), { nsPids: [1206, 1] })),
    // gone between nvidia-smi and /proc
    input(null, {}, 1207),
    // PID reused between nvidia-smi and /proc: now some other program
    input(proc(1208, ['/usr/sbin/sshd', '-D'], { exe: '/usr/sbin/sshd', comm: 'sshd' })),
  ];
  const sel = selectKillCandidates([...decoys, input(eligibleRunner)], runnerPolicy);

  assert.deepEqual(
    sel.eligible.map((c) => c.pid),
    [1201],
  );
  const c = sel.eligible[0]!;
  assert.equal(c.startTime, eligibleRunner.startTime);
  assert.deepEqual(c.argv, eligibleRunner.argv);
  assert.equal(c.containerId, TARGET);
  assert.match(reasonFor(sel, 100), /not an Ollama model runner \(ollama_server/);
  assert.match(reasonFor(sel, 1202), /not an Ollama model runner \(other/);
  assert.match(reasonFor(sel, 1203), /not of the target/);
  assert.match(reasonFor(sel, 1204), /ollama_discovery/);
  assert.match(reasonFor(sel, 777), /remediator itself/);
  assert.match(reasonFor(sel, 1205), /remediator's own container/);
  assert.match(reasonFor(sel, 1206), /PID 1 of its PID namespace/);
  assert.match(reasonFor(sel, 1207), /gone/);
  assert.match(reasonFor(sel, 1208), /not an Ollama model runner/);
});

test('a PID whose /proc executable differs from what nvidia-smi reported is treated as reused', () => {
  // nvidia-smi saw a llama-server; the PID now belongs to an ollama runner of the target (reused in between)
  const id = proc(1301, runnerArgv(1));
  const sel = selectKillCandidates(
    [input(id, { app: { gpuUuid: GPU, pid: 1301, processName: '/usr/lib/ollama/llama-server', usedMemoryBytes: 5 } })],
    runnerPolicy,
  );
  assert.equal(sel.eligible.length, 0);
  assert.match(reasonFor(sel, 1301), /PID reused/);
});

test('an unreadable nvidia-smi name ([Not Found]) does not block, an empty NSpid does', () => {
  const ok = proc(1401, runnerArgv(1));
  const noNs = proc(1402, runnerArgv(2), { nsPids: [] });
  const sel = selectKillCandidates(
    [
      input(ok, { app: { gpuUuid: GPU, pid: 1401, processName: '[Not Found]', usedMemoryBytes: undefined } }),
      input(noNs),
    ],
    runnerPolicy,
  );
  assert.deepEqual(
    sel.eligible.map((c) => c.pid),
    [1401],
  );
  assert.match(reasonFor(sel, 1402), /NSpid/);
});

test('kill_orphans: a runner whose parent is a live server is not an orphan; one reparented is', () => {
  const child = proc(1501, runnerArgv(1)); // ppid 100 = SERVER
  const reparented = proc(1502, runnerArgv(2), { ppid: 1 });
  const tini = proc(1, ['/sbin/tini', '--', '/bin/ollama', 'serve'], { exe: '/sbin/tini', nsPids: [1, 1] });
  const sel = selectKillCandidates([input(child), input(reparented, { parent: tini })], orphanPolicy);
  assert.deepEqual(
    sel.eligible.map((c) => c.pid),
    [1502],
  );
  assert.match(
    sel.eligible[0]!.why,
    /orphaned runner of the target \(parent PID 1 is \/sbin\/tini --; its container aaaaaaaaaaaa is running\)/,
  );
  assert.match(reasonFor(sel, 1501), /child of a live ollama serve/);
});

test('kill_orphans: a server in ANOTHER container does not count as the runner parent', () => {
  const serverElsewhere = { ...SERVER, containerId: OTHER };
  const r = proc(1601, runnerArgv(1));
  const sel = selectKillCandidates([input(r, { parent: serverElsewhere })], orphanPolicy);
  assert.deepEqual(
    sel.eligible.map((c) => c.pid),
    [1601],
  );
});

test('kill_orphans: runners of a container Docker no longer knows, only when the cgroup is Docker', () => {
  const dockerGone = proc(1701, runnerArgv(1), { containerId: GONE, ppid: 1 });
  // isDockerCgroup: the same recorded id, but the cgroup is Podman's / containerd's: Docker's 404 proves nothing.
  const podman = proc(1702, runnerArgv(2), { containerId: GONE, runtime: 'podman', ppid: 1 });
  const containerd = proc(1704, runnerArgv(4), { containerId: GONE, runtime: 'containerd', ppid: 1 });
  const otherAlive = proc(1703, runnerArgv(3), { containerId: OTHER, ppid: 1 });
  const sel = selectKillCandidates(
    [
      input(dockerGone, { containerExists: false, owners: mainOwns }),
      input(podman, { containerExists: false, owners: mainOwns }),
      input(containerd, { containerExists: false, owners: mainOwns }),
      input(otherAlive, { containerExists: true }),
    ],
    orphanPolicy,
  );
  assert.deepEqual(
    sel.eligible.map((c) => c.pid),
    [1701],
  );
  assert.match(
    sel.eligible[0]!.why,
    /container dddddddddddd \(seen as the target's until 2026-03-01T10:00:00.000Z\) no longer exists/,
  );
  assert.match(unprovenFor(sel, 1702), /unknown to Docker, but its cgroup is podman's/);
  assert.match(unprovenFor(sel, 1704), /its cgroup is containerd's/);
  assert.match(unprovenFor(sel, 1703), /never seen as this target's: cannot prove ownership/);
});

test('kill_runner never picks orphans of other containers, kill_orphans never picks a healthy target runner', () => {
  const healthy = proc(1801, runnerArgv(1));
  const gone = proc(1802, runnerArgv(2), { containerId: GONE, ppid: 1 });
  const inputs = [input(healthy), input(gone, { containerExists: false, owners: mainOwns })];
  assert.deepEqual(
    selectKillCandidates(inputs, runnerPolicy).eligible.map((c) => c.pid),
    [1801],
  );
  assert.deepEqual(
    selectKillCandidates(inputs, orphanPolicy).eligible.map((c) => c.pid),
    [1802],
  );
});

test('host target: runners of the single host server only; ambiguous with two servers', () => {
  const hostServer = proc(200, ['/usr/local/bin/ollama', 'serve'], { ...onHost(200), ppid: 1 });
  const hostRunner = proc(201, runnerArgv(1), { ...onHost(201), ppid: 200, exe: '/usr/local/bin/ollama' });
  const containerRunner = proc(202, runnerArgv(2));
  const inputs = [
    input(hostRunner, {
      parent: hostServer,
      app: { gpuUuid: GPU, pid: 201, processName: '/usr/local/bin/ollama', usedMemoryBytes: 1 },
    }),
    input(containerRunner),
  ];
  const one = selectKillCandidates(inputs, { mode: 'runner', target: 'main', scope: hostScope([200]), self });
  assert.deepEqual(
    one.eligible.map((c) => c.pid),
    [201],
  );
  assert.match(reasonFor(one, 202), /not of the target/);

  const two = selectKillCandidates(inputs, { mode: 'runner', target: 'main', scope: hostScope([200, 300]), self });
  assert.equal(two.eligible.length, 0);
  assert.match(reasonFor(two, 201), /2 ollama serve processes/);
});

test('a process holding several GPUs is decided once', () => {
  const r = proc(1901, runnerArgv(1));
  const sel = selectKillCandidates(
    [
      input(r),
      input(r, { app: { gpuUuid: 'GPU-other', pid: 1901, processName: '/usr/bin/ollama', usedMemoryBytes: 1 } }),
    ],
    runnerPolicy,
  );
  assert.equal(sel.eligible.length, 1);
  assert.equal(sel.rejected.length, 0);
});

test('pre-0.5.8 ollama_llama_server and 0.30+ llama-server runners are runners too', () => {
  const old = proc(2001, ['/tmp/ollama123/runners/cuda_v11/ollama_llama_server', '--model', '/m', '--port', '1'], {
    exe: '/tmp/ollama123/runners/cuda_v11/ollama_llama_server',
  });
  const modern = proc(2002, ['/usr/lib/ollama/llama-server', '--model', '/m', '--port', '2'], {
    exe: '/usr/lib/ollama/llama-server',
  });
  const foreign = proc(2003, ['/opt/llama.cpp/llama-server', '--model', '/m'], { exe: '/opt/llama.cpp/llama-server' });
  const app = (pid: number, name: string) => ({ app: { gpuUuid: GPU, pid, processName: name, usedMemoryBytes: 1 } });
  const sel = selectKillCandidates(
    [input(old, app(2001, old.exe!)), input(modern, app(2002, modern.exe!)), input(foreign, app(2003, foreign.exe!))],
    runnerPolicy,
  );
  assert.deepEqual(
    sel.eligible.map((c) => c.pid),
    [2001, 2002],
  );
  assert.match(reasonFor(sel, 2003), /other/);
});
