import type { ComputeApp } from '../../shared/gpu/parse-compute-apps.js';
import { classifyProcessRole } from '../../shared/proc/classify-process-role.js';
import type { ProcessIdentity } from '../../shared/proc/read-process-identity.js';
import { isDockerCgroup } from '../../shared/proc/parse-cgroup-container-id.js';
import type { ContainerOwner, SeenHostServer, SelfIdentity } from './action.js';

/** One GPU compute process with what /proc, Docker and the target history said about it at discovery. */
export interface KillCandidateInput {
  readonly app: ComputeApp;
  /** null: the PID was gone (or reused) by the time /proc was read. */
  readonly identity: ProcessIdentity | null;
  /** Identity of identity.ppid; null when gone or unreadable. */
  readonly parent: ProcessIdentity | null;
  /** Does the configured Docker Engine still know identity.containerId? null = not asked / could not tell. */
  readonly containerExists: boolean | null;
  /** The targets whose recorded history holds identity.containerId (see OwnershipHistory). */
  readonly owners: readonly ContainerOwner[];
}

/**
 * Whose processes the target owns. `containers`: the target's running container ids now. `host`: a target installed
 * on the host (no container selector), owned by the one `ollama serve` running outside any container;
 * `soleHostTarget` says it is the only such target configured, `recordedServers` are the host servers its history
 * holds from this boot (start times count from boot).
 */
export type KillScope =
  | { readonly kind: 'containers'; readonly ids: ReadonlySet<string> }
  | {
      readonly kind: 'host';
      readonly hostServerPids: readonly number[];
      readonly soleHostTarget: boolean;
      readonly recordedServers: readonly SeenHostServer[];
    };

export interface KillPolicy {
  /** runner: the target's runners; orphans: the target's runners that no live server owns. */
  readonly mode: 'runner' | 'orphans';
  /** The target's name, as the history records it. */
  readonly target: string;
  readonly scope: KillScope;
  readonly self: SelfIdentity;
}

/** What a signal must be re-checked against right before it is sent. */
export interface KillCandidate {
  readonly pid: number;
  readonly startTime: number;
  readonly exe: string | null;
  readonly argv: readonly string[];
  readonly containerId: string | null;
  readonly gpuUuid: string;
  readonly usedMemoryBytes: number | undefined;
  readonly why: string;
}

export interface KillSelection {
  readonly eligible: KillCandidate[];
  /** Not the target's to kill (another target's, a live server's child, not a runner...): left alone. */
  readonly rejected: { readonly pid: number; readonly reason: string }[];
  /** Runners that may be the target's orphans, but nothing proves it: never signalled, escalated to a human. */
  readonly unproven: { readonly pid: number; readonly reason: string }[];
}

const DELETED = ' (deleted)';

function baseName(path: string): string {
  const p = path.endsWith(DELETED) ? path.slice(0, -DELETED.length) : path;
  return p.slice(p.lastIndexOf('/') + 1);
}

/** nvidia-smi prints the executable's path; a name in brackets ("[Not Found]") or nothing cannot be compared. */
function comparableName(processName: string): string | null {
  const name = processName.trim();
  return name === '' || name.startsWith('[') ? null : baseName(name);
}

/**
 * Pure: which GPU processes may be signalled. Deliberately narrow: an Ollama model runner only (never `serve`, the
 * discovery probe or anything else), never PID 1 of its PID namespace (that is a container restart, not a kill),
 * never the remediator or its container, and only where ownership is proven (see KillScope / KillPolicy.mode).
 */
export function selectKillCandidates(inputs: readonly KillCandidateInput[], policy: KillPolicy): KillSelection {
  const eligible: KillCandidate[] = [];
  const rejected: { pid: number; reason: string }[] = [];
  const unproven: { pid: number; reason: string }[] = [];
  const seen = new Set<number>();
  for (const input of inputs) {
    const pid = input.app.pid;
    // One process may hold several GPUs: one row each, one decision.
    if (seen.has(pid)) continue;
    seen.add(pid);
    const reject = (reason: string) => rejected.push({ pid, reason });
    const id = input.identity;
    if (!id) {
      reject('gone before it could be identified');
      continue;
    }
    if (id.pid === policy.self.pid) {
      reject('the remediator itself');
      continue;
    }
    if (policy.self.containerId !== null && id.containerId === policy.self.containerId) {
      reject("in the remediator's own container");
      continue;
    }
    const role = classifyProcessRole(id.argv, id.exe);
    if (role !== 'ollama_runner') {
      reject(`not an Ollama model runner (${role}: ${id.argv.slice(0, 3).join(' ') || id.comm})`);
      continue;
    }
    const smiName = comparableName(input.app.processName);
    const procName = baseName(id.exe ?? id.argv[0] ?? '');
    if (smiName !== null && smiName !== procName) {
      // The PID changed hands between nvidia-smi and /proc: this is not the process that holds the GPU memory.
      reject(`nvidia-smi names ${input.app.processName} but /proc shows ${id.exe ?? id.argv[0]}: PID reused`);
      continue;
    }
    const innermost = id.nsPids[id.nsPids.length - 1];
    if (innermost === undefined) {
      reject('no NSpid line in /proc status: cannot prove it is not PID 1 of a container');
      continue;
    }
    if (innermost === 1) {
      reject('PID 1 of its PID namespace (killing it stops the container)');
      continue;
    }
    const why = ownership(input, id, policy);
    if (typeof why === 'string') {
      eligible.push({
        pid,
        startTime: id.startTime,
        exe: id.exe,
        argv: id.argv,
        containerId: id.containerId,
        gpuUuid: input.app.gpuUuid,
        usedMemoryBytes: input.app.usedMemoryBytes,
        why,
      });
    } else if ('unproven' in why) {
      unproven.push({ pid, reason: why.unproven });
    } else {
      reject(why.reject);
    }
  }
  return { eligible, rejected, unproven };
}

/** Where a process runs, in words. */
function where(id: ProcessIdentity): string {
  if (id.containerId !== null) return `container ${id.containerId.slice(0, 12)}`;
  if (id.onHost) return 'the host';
  return `a ${id.runtime ?? 'container'} cgroup that is not the host's (no Docker container id)`;
}

const iso = (ms: number) => new Date(ms).toISOString();

type Ownership = string | { readonly reject: string } | { readonly unproven: string };

/** Why this runner is the target's to kill (a string), or why not (left alone, or not provable: escalate). */
function ownership(input: KillCandidateInput, id: ProcessIdentity, policy: KillPolicy): Ownership {
  const scope = policy.scope;
  const parent = input.parent;
  const parentIsServer =
    parent !== null &&
    parent.pid === id.ppid &&
    classifyProcessRole(parent.argv, parent.exe) === 'ollama_server' &&
    parent.containerId === id.containerId &&
    parent.runtime === id.runtime &&
    parent.onHost === id.onHost;
  const notTarget = { reject: `runner of ${where(id)}, not of the target` };

  if (policy.mode === 'runner') {
    if (scope.kind === 'containers') {
      if (id.containerId !== null && scope.ids.has(id.containerId)) return `runner of the target (${where(id)})`;
      return notTarget;
    }
    if (!id.onHost) return notTarget;
    // Several Ollama servers on one host: nothing proves which one the target URL reaches.
    if (scope.hostServerPids.length !== 1) {
      return {
        reject: `${scope.hostServerPids.length} ollama serve processes on the host: cannot tell which is the target`,
      };
    }
    if (!parentIsServer || parent!.pid !== scope.hostServerPids[0])
      return { reject: "not a child of the target's ollama serve" };
    return 'runner of the target (the host)';
  }

  // orphans. First: a runner that a live server in its own container (or on the host) owns is never an orphan,
  // whatever this Docker Engine answers about that container (rootless Docker, Docker-in-Docker and a second
  // daemon all answer 404 for containers that are alive and well).
  if (parentIsServer) return { reject: `child of a live ollama serve (PID ${parent!.pid}): not an orphan` };
  const parentText =
    parent === null
      ? `parent PID ${id.ppid} unreadable or gone`
      : `parent PID ${parent.pid} is ${parent.argv.slice(0, 2).join(' ') || parent.comm}`;

  if (scope.kind === 'containers') {
    const cid = id.containerId;
    if (cid === null) return notTarget;
    if (scope.ids.has(cid)) return `orphaned runner of the target (${parentText}; its ${where(id)} is running)`;
    const mine = input.owners.find((o) => o.target === policy.target);
    if (!mine) {
      const others = input.owners.map((o) => o.target);
      if (others.length > 0)
        return { reject: `runner of ${where(id)}, recorded as target ${others.join(', ')}'s: not this target's` };
      return {
        unproven: `orphan-like runner of ${where(id)} (${parentText}), a container never seen as this target's: cannot prove ownership`,
      };
    }
    const seen = `seen as the target's until ${iso(mine.lastSeen)}`;
    if (input.containerExists === null)
      return { unproven: `${where(id)} (${seen}): Docker cannot tell whether it still exists` };
    if (input.containerExists)
      return { unproven: `${where(id)} (${seen}) still exists but is not a running container of the target` };
    if (!isDockerCgroup(id, cid))
      return {
        unproven: `${where(id)} (${seen}) is unknown to Docker, but its cgroup is ${id.runtime ?? 'unknown'}'s`,
      };
    return `its container ${cid.slice(0, 12)} (${seen}) no longer exists (${parentText})`;
  }

  if (!id.onHost) return notTarget;
  if (scope.hostServerPids.length > 1) {
    return {
      unproven: `${scope.hostServerPids.length} ollama serve processes on the host: cannot tell which is the target`,
    };
  }
  if (!scope.soleHostTarget)
    return { unproven: `host runner (${parentText}): several targets run on the host, whose it is cannot be told` };
  const server = scope.recordedServers
    .filter((s) => s.startTime <= id.startTime)
    .sort((a, b) => b.startTime - a.startTime)[0];
  if (!server) {
    return {
      unproven: `host runner (${parentText}) started before any ollama serve recorded as the target's in this boot: cannot prove ownership`,
    };
  }
  return `orphaned host runner of the target (${parentText}; started after its ollama serve PID ${server.pid}, recorded)`;
}
