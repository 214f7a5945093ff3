import type { DockerApi } from '../../shared/docker/docker-api.js';
import { resolveTargetContainers } from '../../shared/docker/resolve-target-containers.js';
import { readProcessIdentity } from '../../shared/proc/read-process-identity.js';
import type { ActionDeps, ActionRequest, ActionResult } from './action.js';
import { errorText, type CallLog } from './call-log.js';
import { hasHostPidView } from './has-host-pid-view.js';
import { proveOnThisNode } from './prove-own-node.js';
import { describeContainerList, describeSelector } from './list-target-containers.js';
import {
  dockerKnowsContainer,
  findHostOllamaServers,
  readBootId,
  recordHostServer,
  recordTargetContainers,
} from './record-ownership.js';
import { selectKillCandidates, type KillCandidateInput, type KillScope } from './select-kill-candidates.js';
import { terminateProcess, type TerminateOutcome } from './terminate-process.js';
import { boundedSignal } from './wait-until.js';

/**
 * kill_runner / kill_orphans: discovery (nvidia-smi, /proc, Docker), the pure selection, then the verified
 * SIGTERM -> grace -> SIGKILL ladder per process. Container- or API-level actions are gentler; this one exists for
 * runners that hold VRAM while Ollama no longer tracks them (ollama#7927, #5642).
 */
export async function killRunners(
  mode: 'runner' | 'orphans',
  req: ActionRequest,
  deps: ActionDeps,
  calls: CallLog,
): Promise<ActionResult> {
  const { target, signal } = req;
  const result = calls.result.bind(calls);

  calls.read(`readlink ${deps.procRoot}/1/ns/pid`);
  const view = await hasHostPidView(deps.procRoot);
  if (!view.ok) return result('skipped', `no host PID view, cannot match GPU PIDs to processes: ${view.reason}`);

  const docker = deps.docker as unknown as DockerApi;
  let scope: KillScope;
  let proof = '';
  if (target.container) {
    calls.read(describeContainerList(target.container));
    const containers = await resolveTargetContainers(
      docker,
      target.container,
      boundedSignal(signal, deps.timeouts.dockerMs),
    );
    if (deps.self.containerId !== null && containers.some((c) => c.id === deps.self.containerId)) {
      return result('failed', `refused: ${describeSelector(target.container)} matches the remediator's own container`);
    }
    if (mode === 'runner' && containers.length === 0) {
      return result('skipped', `no running container for ${describeSelector(target.container)}: no runner to kill`);
    }
    const here = await proveOnThisNode(containers, deps, calls, signal);
    if (!here.ok) return result('failed', here.detail);
    proof = here.proof;
    await recordTargetContainers(
      deps,
      target.name,
      containers.map((c) => c.id),
    );
    scope = { kind: 'containers', ids: new Set(containers.map((c) => c.id)) };
  } else {
    calls.read(`scan ${deps.procRoot}/*/cmdline for ollama serve outside containers`);
    const servers = await findHostOllamaServers(deps.procRoot);
    await recordHostServer(deps, target.name, servers);
    const bootId = await readBootId(deps.procRoot);
    const hostTargets = deps.history?.hostTargets ?? [];
    scope = {
      kind: 'host',
      hostServerPids: servers.map((s) => s.pid),
      soleHostTarget: hostTargets.length === 1 && hostTargets[0] === target.name,
      recordedServers:
        bootId === null ? [] : (deps.history?.hostServers(target.name) ?? []).filter((s) => s.bootId === bootId),
    };
  }

  calls.read('nvidia-smi --query-compute-apps=gpu_uuid,pid,process_name,used_gpu_memory --format=csv,nounits');
  const apps = await deps.queryComputeApps(boundedSignal(signal, deps.gpu.timeout_ms + 5_000));
  const inputs: KillCandidateInput[] = [];
  const known = new Map<string, boolean | null>();
  for (const app of apps) {
    calls.read(`read ${deps.procRoot}/${app.pid}/{stat,cmdline,exe,cgroup,status}`);
    const identity = await readProcessIdentity(deps.procRoot, app.pid);
    const parent = identity && identity.ppid > 0 ? await readProcessIdentity(deps.procRoot, identity.ppid) : null;
    const cid = identity?.containerId ?? null;
    const owners = cid === null ? [] : (deps.history?.containerOwners(cid) ?? []);
    let containerExists: boolean | null = null;
    // Docker is asked only about a container the history gives to this target and that is not running as its now.
    if (
      mode === 'orphans' &&
      cid !== null &&
      scope.kind === 'containers' &&
      !scope.ids.has(cid) &&
      owners.some((o) => o.target === target.name)
    ) {
      if (!known.has(cid)) {
        calls.read(`GET /containers/${cid}/json`);
        known.set(cid, await dockerKnowsContainer(docker, cid, boundedSignal(signal, deps.timeouts.dockerMs)));
      }
      containerExists = known.get(cid)!;
    }
    inputs.push({ app, identity, parent, containerExists, owners });
  }

  const selection = selectKillCandidates(inputs, { mode, target: target.name, scope, self: deps.self });
  const rejectedText = selection.rejected.map((r) => `PID ${r.pid}: ${r.reason}`).join('; ');
  const unprovenText = selection.unproven.map((r) => `PID ${r.pid}: ${r.reason}`).join('; ');
  const leftAlone = `${rejectedText ? `; left alone: ${rejectedText}` : ''}${
    unprovenText ? `; NOT PROVEN the target's, escalate: ${unprovenText}` : ''
  }`;
  if (selection.eligible.length === 0) {
    const what = mode === 'runner' ? 'runner of the target' : 'orphaned runner';
    if (selection.unproven.length > 0) {
      // Something may hold the GPU for the target, but nothing proves it is the target's: refuse, for a human.
      return result(
        'failed',
        `refused: cannot prove ownership of ${selection.unproven.length} runner(s), nothing signalled (${apps.length} GPU process(es)${leftAlone})`,
      );
    }
    return result('skipped', `no ${what} on the GPU (${apps.length} GPU process(es)${leftAlone})`);
  }

  const before = {
    mode,
    pids: selection.eligible.map((c) => ({
      pid: c.pid,
      startTime: c.startTime,
      exe: c.exe,
      argv: c.argv,
      containerId: c.containerId,
      gpuUuid: c.gpuUuid,
      usedMemoryBytes: c.usedMemoryBytes ?? null,
      why: c.why,
    })),
  };
  if (!req.dryRun) await req.onBefore?.(before);

  const kill = deps.kill ?? ((pid: number, sig: NodeJS.Signals) => process.kill(pid, sig));
  const outcomes: { pid: number; outcome: TerminateOutcome | 'error'; error?: string }[] = [];
  for (const c of selection.eligible) {
    try {
      const outcome = await terminateProcess(c, {
        procRoot: deps.procRoot,
        graceMs: deps.killGraceMs,
        killWaitMs: Math.max(2_000, deps.killGraceMs),
        calls,
        signal,
        kill,
        now: () => deps.now(),
        ...(deps.sleep ? { sleep: deps.sleep } : {}),
      });
      outcomes.push({ pid: c.pid, outcome });
      deps.log.info({ incident: req.incidentId, pid: c.pid, outcome, why: c.why, dryRun: req.dryRun }, 'runner kill');
    } catch (err) {
      if (signal.aborted) throw err;
      outcomes.push({ pid: c.pid, outcome: 'error', error: errorText(err) });
    }
  }

  const summary = outcomes
    .map(
      (o) =>
        `PID ${o.pid} ${o.outcome}${o.error ? ` (${o.error})` : ''} [${selection.eligible.find((c) => c.pid === o.pid)!.why}]`,
    )
    .join('; ');
  if (req.dryRun)
    return result('skipped', `dry-run: would stop ${summaryPids(outcomes)}: ${summary}${leftAlone}${proof}`, before);
  const bad = outcomes.filter((o) => o.outcome === 'survived' || o.outcome === 'error');
  return result(bad.length > 0 ? 'failed' : 'done', `${summary}${leftAlone}${proof}`, before);
}

function summaryPids(outcomes: { pid: number }[]): string {
  return outcomes.map((o) => `PID ${o.pid}`).join(', ');
}
