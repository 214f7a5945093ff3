import type { OllamaTargetConfig } from '../config/types.js';
import type { DockerApi } from '../docker/docker-api.js';
import type { DockerContainer } from '../docker/docker-container.js';
import type { InspectContainerById } from '../docker/inspect-container-by-id.js';
import { resolveTargetContainers } from '../docker/resolve-target-containers.js';
import { classifyProcessRole } from '../proc/classify-process-role.js';
import { readProcessIdentity, type ProcessIdentity } from '../proc/read-process-identity.js';
import type { Attribution, GpuAttribution, GpuProcess, OrphanRunner, TargetGpuProcesses } from './gpu-attribution.js';

/** A GPU compute process as the driver lists it (nvidia-smi --query-compute-apps or NVML). */
export interface GpuComputeApp {
  readonly gpuUuid: string;
  readonly pid: number;
  readonly processName: string;
  readonly usedMemoryBytes: number | undefined;
  /** NVML only: SM activity of the process over the last sample period, 0-1 (0 = idle); absent when not sampled. */
  readonly smUtilizationRatio?: number;
}

export interface AttributeGpuProcessesInput {
  readonly apps: readonly GpuComputeApp[];
  /** Every GPU, so idle ones are reported too; GPUs named by `apps` are added. */
  readonly gpuUuids?: readonly string[];
  readonly targets: readonly OllamaTargetConfig[];
  /** Host /proc as seen by this process: the driver reports host PIDs. */
  readonly procRoot: string;
  readonly signal?: AbortSignal;
  /**
   * Container id -> target for containers seen in earlier runs: a runner left in a container that has since been
   * removed still belongs to that target (and is an orphan).
   */
  readonly pastTargetContainers?: ReadonlyMap<string, string>;
}

interface MinimalLog {
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface AttributeGpuProcessesDeps {
  readonly docker: DockerApi;
  readonly inspectContainerById: InspectContainerById;
  readonly readProcessIdentity?: typeof readProcessIdentity;
  readonly log?: MinimalLog;
}

const DELETED = ' (deleted)';
const base = (path: string): string => {
  const p = path.endsWith(DELETED) ? path.slice(0, -DELETED.length) : path;
  return p.slice(p.lastIndexOf('/') + 1);
};

/**
 * Is this /proc entry the process the driver named? Inside a container without the host PID namespace a host PID
 * names some other process (or none); a name check catches that. comm is compared too: it follows the name a
 * program was started by (a symlink), exe the file it resolves to.
 */
function sameProcess(identity: ProcessIdentity, processName: string): boolean {
  const want = base(processName);
  if (want === '') return true;
  if (identity.exe !== null && base(identity.exe) === want) return true;
  return identity.comm !== '' && want.startsWith(identity.comm);
}

/**
 * Who holds the GPU: for each compute process, its identity from /proc, its container (cgroup, confirmed by Docker),
 * its Ollama role and target, and whether it is an orphan runner. Never throws for Docker trouble: targets that
 * cannot be resolved are listed in `unresolvedTargets` and their processes stay `unconfirmed`.
 */
export async function attributeGpuProcesses(
  input: AttributeGpuProcessesInput,
  deps: AttributeGpuProcessesDeps,
): Promise<GpuAttribution> {
  const readIdentity = deps.readProcessIdentity ?? readProcessIdentity;
  const { signal } = input;

  // 1. The containers each target runs in now.
  const resolved = new Map<string, DockerContainer[]>();
  const unresolvedTargets: string[] = [];
  await Promise.all(
    input.targets.map(async (t) => {
      const selector = t.container;
      if (!selector) return;
      try {
        resolved.set(t.name, await resolveTargetContainers(deps.docker, selector, signal));
      } catch (err) {
        signal?.throwIfAborted();
        unresolvedTargets.push(t.name);
        deps.log?.warn({ target: t.name, err: String(err) }, 'cannot resolve the containers of an Ollama target');
      }
    }),
  );
  const targetOf = new Map<string, string>();
  for (const [target, containers] of resolved)
    for (const c of containers) if (!targetOf.has(c.id)) targetOf.set(c.id, target);

  // 2. Who each PID is (one read per PID even when it holds several GPUs).
  const identities = new Map<number, ProcessIdentity | null>();
  const nameOf = new Map(input.apps.map((a) => [a.pid, a.processName]));
  await Promise.all(
    [...nameOf].map(async ([pid, name]) => {
      const id = await readIdentity(input.procRoot, pid);
      if (id && !sameProcess(id, name)) {
        deps.log?.debug(
          { pid, processName: name, exe: id.exe, comm: id.comm },
          'PID names another process here: no host PID view?',
        );
        identities.set(pid, null);
      } else identities.set(pid, id);
    }),
  );

  // 3. Docker's word on each container id found in a cgroup: a container, null (404: gone), or undefined (error).
  const containers = new Map<string, DockerContainer | null | undefined>();
  const ids = new Set([...identities.values()].map((i) => i?.containerId).filter((x): x is string => !!x));
  await Promise.all(
    [...ids].map(async (id) => {
      try {
        containers.set(id, await deps.inspectContainerById(id, signal));
      } catch (err) {
        signal?.throwIfAborted();
        containers.set(id, undefined);
        deps.log?.warn({ containerId: id, err: String(err) }, 'cannot inspect the container of a GPU process');
      }
    }),
  );

  // 4. Parents of runners, to tell a served runner from an orphan.
  const isRunnerLike = (i: ProcessIdentity) => classifyProcessRole(i.argv, i.exe) === 'ollama_runner';
  const parents = new Map<number, ProcessIdentity | null>();
  const ppids = new Set(
    [...identities.values()].filter((i): i is ProcessIdentity => !!i && isRunnerLike(i)).map((i) => i.ppid),
  );
  await Promise.all(
    [...ppids].map(async (ppid) =>
      parents.set(ppid, identities.get(ppid) ?? (await readIdentity(input.procRoot, ppid))),
    ),
  );

  const rows: GpuProcess[] = input.apps.map((app) => {
    const identity = identities.get(app.pid) ?? null;
    const role = identity
      ? classifyProcessRole(identity.argv, identity.exe)
      : classifyProcessRole([app.processName], app.processName);
    const containerId = identity?.containerId ?? null;
    const container = containerId ? containers.get(containerId) : undefined;
    let attribution: Attribution;
    if (!identity) attribution = 'exited';
    else if (identity.onHost) attribution = 'host';
    // LXC, nspawn, Podman's cgroupfs layout...: in a container, just not one with a Docker-style id.
    else if (!containerId) attribution = 'unconfirmed';
    else attribution = container ? 'container' : 'unconfirmed';
    const target = containerId
      ? (targetOf.get(containerId) ?? input.pastTargetContainers?.get(containerId) ?? null)
      : null;
    let orphan = false;
    if (identity && role === 'ollama_runner' && target !== null) {
      const parent = parents.get(identity.ppid) ?? null;
      const served =
        parent !== null &&
        parent.containerId === containerId &&
        classifyProcessRole(parent.argv, parent.exe) === 'ollama_server';
      orphan = container === null || !served;
    }
    return {
      gpuUuid: app.gpuUuid,
      pid: app.pid,
      processName: app.processName,
      usedMemoryBytes: app.usedMemoryBytes ?? null,
      ...(app.smUtilizationRatio !== undefined ? { smUtilizationRatio: app.smUtilizationRatio } : {}),
      role,
      attribution,
      containerId,
      containerName: container ? container.name : '',
      target,
      ppid: identity?.ppid ?? null,
      startTime: identity?.startTime ?? null,
      orphan,
    };
  });
  rows.sort(
    (a, b) =>
      a.gpuUuid.localeCompare(b.gpuUuid) || (b.usedMemoryBytes ?? -1) - (a.usedMemoryBytes ?? -1) || a.pid - b.pid,
  );

  const targets: TargetGpuProcesses[] = input.targets
    .filter((t) => resolved.has(t.name))
    .map((t) => {
      const processes = rows.filter((r) => r.target === t.name);
      return {
        target: t.name,
        containers: resolved.get(t.name)!,
        memoryBytes: processes.reduce((sum, r) => sum + (r.usedMemoryBytes ?? 0), 0),
        processes,
        runners: processes.filter((r) => r.role === 'ollama_runner'),
        orphanRunners: orphansOf(processes, containers),
      };
    });

  const gpuUuids = [...new Set([...(input.gpuUuids ?? []), ...input.apps.map((a) => a.gpuUuid)])];
  return { gpuUuids, processes: rows, targets, unresolvedTargets: unresolvedTargets.sort() };
}

/** Orphan rows folded per PID (a runner split over two GPUs is one process to stop). */
function orphansOf(
  rows: readonly GpuProcess[],
  containers: ReadonlyMap<string, DockerContainer | null | undefined>,
): OrphanRunner[] {
  const byPid = new Map<number, OrphanRunner>();
  for (const r of rows) {
    if (!r.orphan) continue;
    const prev = byPid.get(r.pid);
    const gone = r.containerId !== null && containers.get(r.containerId) === null;
    byPid.set(r.pid, {
      pid: r.pid,
      startTime: r.startTime,
      memoryBytes: (prev?.memoryBytes ?? 0) + (r.usedMemoryBytes ?? 0),
      gpuUuids: [...(prev?.gpuUuids ?? []), r.gpuUuid],
      containerId: r.containerId,
      why: gone ? 'container_gone' : 'parent_not_server',
    });
  }
  return [...byPid.values()].sort((a, b) => a.pid - b.pid);
}
