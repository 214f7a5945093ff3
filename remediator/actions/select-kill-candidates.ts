import type { ComputeApp } from '../../shared/gpu/parse-compute-apps.js';
import { classifyProcessRole } from '../../shared/proc/classify-process-role.js';
import type { ProcessIdentity } from '../../shared/proc/read-process-identity.js';
import type { SelfIdentity } from './action.js';

/** One GPU compute process with what /proc and Docker said about it at discovery. */
export interface KillCandidateInput {
  readonly app: ComputeApp;
  /** null: the PID was gone (or reused) by the time /proc was read. */
  readonly identity: ProcessIdentity | null;
  /** Identity of identity.ppid; null when gone or unreadable. */
  readonly parent: ProcessIdentity | null;
  /** Does Docker still know identity.containerId? null = not asked / could not tell. */
  readonly containerExists: boolean | null;
  /** The cgroup path names a Docker container (docker-<id>.scope or /docker/<id>), not containerd/CRI-O/Podman's. */
  readonly dockerCgroup: boolean;
}

/**
 * Whose processes the target owns. `containers`: the target's running container ids. `host`: a target installed on
 * the host (no container selector), owned by the one `ollama serve` running outside any container.
 */
export type KillScope =
  | { readonly kind: 'containers'; readonly ids: ReadonlySet<string> }
  | { readonly kind: 'host'; readonly hostServerPids: readonly number[] };

export interface KillPolicy {
  /** runner: the target's runners; orphans: runners whose container is gone or whose parent is not the server. */
  readonly mode: 'runner' | 'orphans';
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
  readonly rejected: { readonly pid: number; readonly reason: string }[];
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
    } else {
      reject(why.reject);
    }
  }
  return { eligible, rejected };
}

function short(id: string | null): string {
  return id === null ? 'the host' : `container ${id.slice(0, 12)}`;
}

/** Why this runner is the target's to kill (a string), or why not. */
function ownership(input: KillCandidateInput, id: ProcessIdentity, policy: KillPolicy): string | { reject: string } {
  const scope = policy.scope;
  const parent = input.parent;
  const parentIsServer =
    parent !== null &&
    parent.pid === id.ppid &&
    classifyProcessRole(parent.argv, parent.exe) === 'ollama_server' &&
    parent.containerId === id.containerId;

  let inTarget: boolean;
  if (scope.kind === 'containers') {
    inTarget = id.containerId !== null && scope.ids.has(id.containerId);
  } else {
    inTarget = id.containerId === null;
  }

  if (policy.mode === 'runner') {
    if (!inTarget) return { reject: `runner of ${short(id.containerId)}, not of the target` };
    if (scope.kind === 'host') {
      // Several Ollama servers on one host: nothing proves which one the target URL reaches.
      if (scope.hostServerPids.length !== 1) {
        return {
          reject: `${scope.hostServerPids.length} ollama serve processes on the host: cannot tell which is the target`,
        };
      }
      if (!parentIsServer || parent!.pid !== scope.hostServerPids[0])
        return { reject: "not a child of the target's ollama serve" };
    }
    return `runner of the target (${short(id.containerId)})`;
  }

  // orphans
  if (id.containerId !== null && input.containerExists === false) {
    if (!input.dockerCgroup)
      return { reject: `container ${id.containerId.slice(0, 12)} is not a Docker container (other runtime)` };
    return `its container ${id.containerId.slice(0, 12)} no longer exists`;
  }
  if (!inTarget) return { reject: `runner of ${short(id.containerId)}, not of the target` };
  if (scope.kind === 'host' && scope.hostServerPids.length > 1) {
    return {
      reject: `${scope.hostServerPids.length} ollama serve processes on the host: cannot tell which is the target`,
    };
  }
  if (parentIsServer) return { reject: `child of a live ollama serve (PID ${parent!.pid}): not an orphan` };
  const parentText =
    parent === null
      ? `parent PID ${id.ppid} unreadable or gone`
      : `parent PID ${parent.pid} is ${parent.argv.slice(0, 2).join(' ') || parent.comm}`;
  return `orphaned runner of the target (${parentText})`;
}
