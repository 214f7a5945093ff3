/**
 * The pure selection, kill_orphans' ownership rules: a live server's runner is never an orphan; a dead container's
 * runner is the target's only through the recorded history (and a Docker cgroup); a host runner only with one host
 * target and its server recorded; LXC, nspawn and Podman processes are never "the host".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectKillCandidates, type KillScope } from '../../../../remediator/actions/select-kill-candidates.js';
import {
  GONE,
  SEEN,
  hostScope,
  input,
  mainOwns,
  onHost,
  orphanPolicy,
  proc,
  reasonFor,
  runnerArgv,
  self,
  unprovenFor,
} from '../../../helpers/kill-candidates.js';

test('kill_orphans: a live server in a container THIS Docker does not know still owns its runner', () => {
  // Rootless Docker, Docker-in-Docker inner containers, a second dockerd: this daemon answers 404 for a container
  // that is alive, with its server. The live-parent check comes before any "container gone" reasoning, so even a
  // (forged or colliding) history entry and a Docker cgroup cannot make this runner an orphan.
  const foreign = 'f'.repeat(64);
  const server = proc(2100, ['/usr/bin/ollama', 'serve'], { containerId: foreign, ppid: 2099, nsPids: [2100, 1] });
  const runner = proc(2101, runnerArgv(1), { containerId: foreign, ppid: 2100 });
  for (const owners of [[], mainOwns]) {
    const sel = selectKillCandidates([input(runner, { parent: server, containerExists: false, owners })], orphanPolicy);
    assert.deepEqual(sel.eligible, []);
    assert.deepEqual(sel.unproven, []);
    assert.match(reasonFor(sel, 2101), /child of a live ollama serve \(PID 2100\): not an orphan/);
  }
});

test('kill_orphans: a container never seen as the target is escalated, whatever Docker says', () => {
  const foreign = 'f'.repeat(64);
  const r = proc(2201, runnerArgv(1), { containerId: foreign, ppid: 1 });
  for (const containerExists of [false, true, null]) {
    const sel = selectKillCandidates([input(r, { containerExists })], orphanPolicy);
    assert.deepEqual(sel.eligible, []);
    assert.match(unprovenFor(sel, 2201), /never seen as this target's: cannot prove ownership/);
  }
});

test('kill_orphans: a dead container of ANOTHER target is killed only for that target', () => {
  const r = proc(2301, runnerArgv(1), { containerId: GONE, ppid: 1 });
  const owners = [{ target: 'other', firstSeen: SEEN - 1, lastSeen: SEEN }];
  const forMain = selectKillCandidates([input(r, { containerExists: false, owners })], orphanPolicy);
  assert.deepEqual(forMain.eligible, []);
  assert.match(reasonFor(forMain, 2301), /recorded as target other's: not this target's/);

  const forOther = selectKillCandidates([input(r, { containerExists: false, owners })], {
    ...orphanPolicy,
    target: 'other',
    scope: { kind: 'containers', ids: new Set() },
  });
  assert.deepEqual(
    forOther.eligible.map((c) => c.pid),
    [2301],
  );
});

test('kill_orphans: a recorded container that Docker still knows, or cannot answer for, is escalated', () => {
  const r = proc(2401, runnerArgv(1), { containerId: GONE, ppid: 1 });
  const exists = selectKillCandidates([input(r, { containerExists: true, owners: mainOwns })], orphanPolicy);
  assert.match(unprovenFor(exists, 2401), /still exists but is not a running container of the target/);
  const unknown = selectKillCandidates([input(r, { containerExists: null, owners: mainOwns })], orphanPolicy);
  assert.match(unprovenFor(unknown, 2401), /Docker cannot tell whether it still exists/);
});

test('kill_orphans on a host target: provable only with one host target and a server recorded before the runner', () => {
  const boot = 'b0a7c0de-0000-4000-8000-000000000001';
  const runner = proc(2501, runnerArgv(1), { ...onHost(2501), ppid: 1, startTime: 8000 });
  const init = proc(1, ['/sbin/init'], { ...onHost(1), ppid: 0, exe: '/sbin/init' });
  const decide = (scope: KillScope) =>
    selectKillCandidates([input(runner, { parent: init })], { mode: 'orphans', target: 'main', scope, self });

  // No host server at all and nothing recorded: NOT every host runner.
  assert.match(unprovenFor(decide(hostScope([])), 2501), /before any ollama serve recorded as the target's/);
  // The recorded server started after this runner: not its parent.
  const late = { pid: 300, startTime: 9000, bootId: boot };
  assert.match(unprovenFor(decide(hostScope([], { recordedServers: [late] })), 2501), /cannot prove ownership/);
  // Several host targets configured: whose runner it is cannot be told.
  const early = { pid: 299, startTime: 7000, bootId: boot };
  assert.match(
    unprovenFor(decide(hostScope([], { recordedServers: [early], soleHostTarget: false })), 2501),
    /several targets run on the host/,
  );
  // Two live host servers: ambiguous.
  assert.match(unprovenFor(decide(hostScope([400, 401], { recordedServers: [early] })), 2501), /2 ollama serve/);
  // One host target, a server of it recorded (this boot) before the runner started: its orphan.
  const ok = decide(hostScope([], { recordedServers: [late, early] }));
  assert.deepEqual(
    ok.eligible.map((c) => c.pid),
    [2501],
  );
  assert.match(
    ok.eligible[0]!.why,
    /orphaned host runner of the target \(parent PID 1 is \/sbin\/init; started after its ollama serve PID 299/,
  );
});

test('LXC, nspawn and Podman processes without a Docker id are not the host', () => {
  // containerId null, but a runtime in the cgroup path (or a PID namespace of its own): not provably on the host.
  const lxc = proc(2601, runnerArgv(1), { containerId: null, runtime: 'lxc', onHost: false, ppid: 1 });
  const nspawn = proc(2602, runnerArgv(2), { containerId: null, runtime: 'nspawn', onHost: false, ppid: 1 });
  const podman = proc(2603, runnerArgv(3), { containerId: null, runtime: 'podman', onHost: false, ppid: 1 });
  const unknownNs = proc(2604, runnerArgv(4), { containerId: null, runtime: null, onHost: false, ppid: 1 });
  const host = proc(2605, ['/usr/bin/ollama', 'serve'], { ...onHost(2605), ppid: 1 });
  const inputs = [lxc, nspawn, podman, unknownNs].map((p) => input(p, { parent: { ...host, pid: p.ppid } }));
  const early = { pid: 2605, startTime: 1, bootId: 'x' };
  for (const mode of ['runner', 'orphans'] as const) {
    const sel = selectKillCandidates(inputs, {
      mode,
      target: 'main',
      scope: hostScope([2605], { recordedServers: [early] }),
      self,
    });
    assert.deepEqual(sel.eligible, [], mode);
    assert.deepEqual(sel.unproven, [], mode);
    assert.match(reasonFor(sel, 2601), /a lxc cgroup that is not the host's/);
    assert.match(reasonFor(sel, 2602), /a nspawn cgroup/);
    assert.match(reasonFor(sel, 2603), /a podman cgroup/);
    assert.match(reasonFor(sel, 2604), /a container cgroup that is not the host's/);
  }
});

test('a container target never takes host runners, a host target never takes container runners', () => {
  const hostRunner = proc(2701, runnerArgv(1), { ...onHost(2701), ppid: 1 });
  const containerRunner = proc(2702, runnerArgv(2), { ppid: 1 });
  const inputs = [input(hostRunner), input(containerRunner)];
  const forContainers = selectKillCandidates([inputs[0]!], orphanPolicy);
  assert.match(reasonFor(forContainers, 2701), /runner of the host, not of the target/);
  const forHost = selectKillCandidates([inputs[1]!], {
    mode: 'orphans',
    target: 'main',
    scope: hostScope([], { recordedServers: [{ pid: 5, startTime: 1, bootId: 'x' }] }),
    self,
  });
  assert.match(reasonFor(forHost, 2702), /runner of container aaaaaaaaaaaa, not of the target/);
});
