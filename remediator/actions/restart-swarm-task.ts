import type { ContainerSelector } from '../../shared/config/types.js';
import type { ActionDeps, ActionRequest, ActionResult } from './action.js';
import { errorText, type CallLog } from './call-log.js';
import {
  describeContainerList,
  describeSelector,
  listTargetContainers,
  type TargetContainer,
} from './list-target-containers.js';
import { claimTargetContainers, containersBefore } from './claim-target-containers.js';
import { recordTargetContainers } from './record-ownership.js';
import { boundedSignal, waitUntil } from './wait-until.js';

/**
 * restart_container for a Swarm target: restarts THIS node's task of the service, and nothing else. The running task
 * container(s) this node's Docker lists are stopped (`POST /containers/{id}/stop`); Swarm's agent on this node sees the
 * task end and the orchestrator starts a new task in its place — for a global service on the same node — with a new
 * container (new PID namespace and device cgroup: what brings a lost GPU back). No services API call, so it needs no
 * manager and never touches another node's task: the node-local restart of a fleet (a force update restarts every node).
 * `docker restart` is not used: Swarm would see the task's container exit under it and replace the task anyway.
 * A replicated service's replacement may be placed on another node: then no new container appears here, and the step
 * fails saying so (the fault left with the task; this node's remediator cannot verify another node).
 */
export async function restartSwarmTask(
  selector: Extract<ContainerSelector, { kind: 'swarm' }>,
  req: ActionRequest,
  deps: ActionDeps,
  calls: CallLog,
): Promise<ActionResult> {
  const { target, signal } = req;
  const result = calls.result.bind(calls);
  const docker = () => boundedSignal(signal, deps.timeouts.dockerMs);
  calls.read(describeContainerList(selector, true));
  // A service keeps its ended tasks' containers (task history): only the running ones are this node's task now.
  const running = (await listTargetContainers(deps.docker, selector, docker())).filter((c) => c.running);
  if (running.length === 0)
    return result(
      'failed',
      `no running container of ${describeSelector(selector)} on this node: cannot prove the target`,
    );
  const here = await claimTargetContainers(running, selector, req, deps, calls);
  if (!here.ok) return result('failed', here.detail);

  const before = containersBefore('swarm_task', running);
  const t = deps.stopTimeoutS;
  for (const c of running) calls.write(`POST /containers/${c.id}/stop${t !== undefined ? `?t=${t}` : ''} (${c.name})`);
  calls.read(`GET /containers/json until a new running ${describeSelector(selector)} container is on this node`);
  if (req.dryRun) {
    return result(
      'skipped',
      `dry-run: would stop ${names(running)} so that Swarm starts a new task on this node${here.proof}`,
      before,
    );
  }
  await req.onBefore?.(before);

  for (const c of running) {
    try {
      await deps.docker.getContainer(c.id).stop({
        ...(t !== undefined ? { t } : {}),
        abortSignal: boundedSignal(signal, deps.timeouts.containerReadyMs),
      });
    } catch (err) {
      const status = (err as { statusCode?: unknown }).statusCode;
      // 304: already stopped (Swarm got there first); 404: already removed. Either way the task is being replaced.
      // An answer that never came is settled by the wait below.
      if (typeof status === 'number' && status !== 304 && status !== 404)
        return result('failed', `stopping ${c.name} failed: ${errorText(err)}`, before);
    }
  }
  const old = new Set(running.map((c) => c.id));
  const fresh = await waitUntil(
    async () => {
      const now = (await listTargetContainers(deps.docker, selector, docker())).filter((c) => c.running);
      const replaced = now.filter((c) => !old.has(c.id));
      return replaced.length > 0 && now.every((c) => !old.has(c.id)) ? replaced : undefined;
    },
    {
      timeoutMs: deps.timeouts.containerReadyMs,
      intervalMs: 500,
      signal,
      now: () => deps.now(),
      ...(deps.sleep ? { sleep: deps.sleep } : {}),
    },
  );
  if (!fresh)
    return result(
      'failed',
      `stopped ${names(running)}, but no new task container of ${describeSelector(selector)} ran on this node within ${deps.timeouts.containerReadyMs} ms (a replicated service's task may have been placed on another node)`,
      before,
    );
  await recordTargetContainers(
    deps,
    target.name,
    fresh.map((c) => c.id),
  );
  return result(
    'done',
    `stopped this node's task container ${names(running)}; Swarm started ${names(fresh)}${here.proof}`,
    before,
  );
}

function names(cs: readonly TargetContainer[]): string {
  return cs.map((c) => `${c.name} (${c.id.slice(0, 12)}, StartedAt ${c.startedAt})`).join(', ');
}
