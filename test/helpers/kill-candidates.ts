import assert from 'node:assert/strict';
import type { ProcessIdentity } from '../../shared/proc/read-process-identity.js';
import type { SelfIdentity } from '../../remediator/actions/action.js';
import {
  selectKillCandidates,
  type KillCandidateInput,
  type KillPolicy,
  type KillScope,
} from '../../remediator/actions/select-kill-candidates.js';

/** Fixtures for the pure kill selection: process identities, inputs and policies, as discovery would build them. */
export const TARGET = 'a'.repeat(64);
export const OTHER = 'b'.repeat(64);
export const SELF_CONTAINER = 'c'.repeat(64);
export const GONE = 'd'.repeat(64);
export const GPU = 'GPU-f88d2996-314d-4abe-0c94-acc6aa417694';
export const self: SelfIdentity = { pid: 777, containerId: SELF_CONTAINER };

/** A process in the target's Docker container unless `over` says otherwise. */
export function proc(pid: number, argv: string[], over: Partial<ProcessIdentity> = {}): ProcessIdentity {
  return {
    pid,
    ppid: 100,
    startTime: 5000 + pid,
    exe: argv[0] ?? null,
    argv,
    comm: 'ollama',
    containerId: TARGET,
    runtime: 'docker',
    onHost: false,
    nsPids: [pid, pid - 1000],
    ...over,
  };
}

/** A process provably on the host: no container runtime in its cgroup, the host's PID namespace. */
export const onHost = (pid: number): Partial<ProcessIdentity> => ({
  containerId: null,
  runtime: null,
  onHost: true,
  nsPids: [pid],
});

export const SERVER = proc(100, ['/usr/bin/ollama', 'serve'], { ppid: 50, nsPids: [100, 7] });
export const runnerArgv = (port: number) => [
  '/usr/bin/ollama',
  'runner',
  '--model',
  '/root/.ollama/models/blobs/sha256-abc',
  '--port',
  String(port),
];

/** nvidia-smi's row for the process; its parent is SERVER when its ppid says so. */
export function input(
  identity: ProcessIdentity | null,
  over: Partial<KillCandidateInput> = {},
  pid = identity?.pid ?? 1,
): KillCandidateInput {
  return {
    app: { gpuUuid: GPU, pid, processName: '/usr/bin/ollama', usedMemoryBytes: 13312 * 1024 * 1024 },
    identity,
    parent: identity?.ppid === SERVER.pid ? SERVER : null,
    containerExists: null,
    owners: [],
    ...over,
  };
}

export const runnerPolicy: KillPolicy = {
  mode: 'runner',
  target: 'main',
  scope: { kind: 'containers', ids: new Set([TARGET]) },
  self,
};
export const orphanPolicy: KillPolicy = { ...runnerPolicy, mode: 'orphans' };
/** The history: the container was seen as target "main"'s until this time. */
export const SEEN = Date.parse('2026-03-01T10:00:00Z');
export const mainOwns = [{ target: 'main', firstSeen: SEEN - 60_000, lastSeen: SEEN }];

export const hostScope = (
  hostServerPids: number[],
  over: Partial<Extract<KillScope, { kind: 'host' }>> = {},
): KillScope => ({ kind: 'host', hostServerPids, soleHostTarget: true, recordedServers: [], ...over });

/** Why a PID was left alone. */
export function reasonFor(sel: ReturnType<typeof selectKillCandidates>, pid: number): string {
  const r = sel.rejected.find((x) => x.pid === pid);
  assert.ok(r, `PID ${pid} should have been rejected`);
  return r.reason;
}

/** Why a PID was escalated (never signalled, nothing proves it is the target's). */
export function unprovenFor(sel: ReturnType<typeof selectKillCandidates>, pid: number): string {
  const r = sel.unproven.find((x) => x.pid === pid);
  assert.ok(r, `PID ${pid} should have been escalated as unproven`);
  return r.reason;
}
