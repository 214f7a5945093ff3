import type { ActionDeps, ActionRequest, ActionResult } from './action.js';
import { errorText, type CallLog } from './call-log.js';
import {
  describeContainerList,
  describeSelector,
  inspectTargetContainer,
  listTargetContainers,
  type TargetContainer,
} from './list-target-containers.js';
import { claimTargetContainers, containersBefore } from './claim-target-containers.js';
import { restartSwarmTask } from './restart-swarm-task.js';
import { boundedSignal, waitUntil } from './wait-until.js';

/**
 * restart_container (`POST /containers/{id}/restart`) or, for recreate_container on Compose/plain containers, stop +
 * start. A true recreate (new container from the compose file, `docker compose up -d --force-recreate`) needs the
 * project's files, which the Docker API does not have; stop + start re-applies the container's device cgroup rules,
 * which is what brings a lost GPU back (ollama#14658, #5035), so that is what is done and `detail` says so.
 * A Swarm target's restart is its task on this node, stopped for Swarm to replace (restart-swarm-task.ts).
 */
export async function restartContainer(
  how: 'restart' | 'stop_start',
  req: ActionRequest,
  deps: ActionDeps,
  calls: CallLog,
): Promise<ActionResult> {
  const { target, signal } = req;
  const result = calls.result.bind(calls);
  const selector = target.container;
  if (!selector) return result('skipped', `target ${target.name} has no container selector: nothing to restart`);
  // This node's task only (stop it, Swarm replaces it): a restart, never the service's other nodes' tasks.
  if (selector.kind === 'swarm') {
    if (how === 'restart') return restartSwarmTask(selector, req, deps, calls);
    return result('skipped', `${describeSelector(selector)}: a Swarm task is recreated through the service`);
  }

  calls.read(describeContainerList(selector, true));
  const containers = await listTargetContainers(deps.docker, selector, boundedSignal(signal, deps.timeouts.dockerMs));
  if (containers.length === 0)
    return result('failed', `no container matches ${describeSelector(selector)}: cannot prove the target`);
  const here = await claimTargetContainers(containers, selector, req, deps, calls);
  if (!here.ok) return result('failed', here.detail);

  const before = containersBefore(how, containers);
  const t = deps.stopTimeoutS;
  const query = t !== undefined ? `?t=${t}` : '';
  const lines: string[] = [];
  if (!req.dryRun) await req.onBefore?.(before);

  for (const c of containers) {
    if (how === 'restart') {
      if (calls.write(`POST /containers/${c.id}/restart${query} (${c.name})`)) {
        await tolerateSlowAnswer(() =>
          deps.docker
            .getContainer(c.id)
            .restart({ ...(t !== undefined ? { t } : {}), abortSignal: requestSignal(req, deps) }),
        );
      }
    } else {
      if (calls.write(`POST /containers/${c.id}/stop${query} (${c.name})`)) {
        await tolerateSlowAnswer(() =>
          deps.docker
            .getContainer(c.id)
            .stop({ ...(t !== undefined ? { t } : {}), abortSignal: requestSignal(req, deps) }),
        );
        await waitStopped(c, req, deps);
      }
      if (calls.write(`POST /containers/${c.id}/start (${c.name})`)) {
        await tolerateSlowAnswer(() =>
          deps.docker.getContainer(c.id).start({ abortSignal: boundedSignal(signal, deps.timeouts.dockerMs) }),
        );
      }
    }
    if (req.dryRun) {
      lines.push(`${c.name}: would ${how === 'restart' ? 'restart' : 'stop and start'} (StartedAt ${c.startedAt})`);
      continue;
    }
    calls.read(`GET /containers/${c.id}/json until running with a new StartedAt`);
    const now = await waitRestarted(c, req, deps);
    if (!now)
      return result(
        'failed',
        `${c.name} was not running again with a new start time within ${deps.timeouts.containerReadyMs} ms${done(lines)}`,
        before,
      );
    lines.push(`${c.name}: StartedAt ${c.startedAt} -> ${now.startedAt}`);
  }

  const verb = how === 'restart' ? 'restarted' : 'stopped and started (not a recreate: that needs the compose file)';
  if (req.dryRun) return result('skipped', `dry-run: ${lines.join('; ')}${here.proof}`, before);
  return result('done', `${verb} ${lines.join('; ')}${here.proof}`, before);
}

function done(lines: string[]): string {
  return lines.length > 0 ? ` (done before: ${lines.join('; ')})` : '';
}

/**
 * The restart/stop request is held open for the whole stop timeout; the Docker client's socket timeout may be
 * shorter. A 404/409/500 is a real answer and fails the step; an answer that never came is settled by inspecting.
 * 304 (already stopped / started) is success.
 */
async function tolerateSlowAnswer(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (err) {
    const status = (err as { statusCode?: unknown }).statusCode;
    if (status === 304) return;
    if (typeof status === 'number') throw new Error(errorText(err), { cause: err });
  }
}

/** Long enough for the daemon's stop timeout + a start, but never past the caller's deadline. */
function requestSignal(req: ActionRequest, deps: ActionDeps): AbortSignal {
  return boundedSignal(req.signal, deps.timeouts.containerReadyMs);
}

async function waitStopped(c: TargetContainer, req: ActionRequest, deps: ActionDeps): Promise<void> {
  await waitUntil(
    async () => {
      const now = await inspectTargetContainer(deps.docker, c.id, boundedSignal(req.signal, deps.timeouts.dockerMs));
      return now === null || !now.running ? true : undefined;
    },
    {
      timeoutMs: deps.timeouts.containerReadyMs,
      intervalMs: 250,
      signal: req.signal,
      now: () => deps.now(),
      ...(deps.sleep ? { sleep: deps.sleep } : {}),
    },
  );
}

async function waitRestarted(
  c: TargetContainer,
  req: ActionRequest,
  deps: ActionDeps,
): Promise<TargetContainer | undefined> {
  return waitUntil(
    async () => {
      const now = await inspectTargetContainer(deps.docker, c.id, boundedSignal(req.signal, deps.timeouts.dockerMs));
      if (now === null) throw new Error(`container ${c.name} (${c.id.slice(0, 12)}) disappeared during the restart`);
      return now.running && now.startedAt !== c.startedAt ? now : undefined;
    },
    {
      timeoutMs: deps.timeouts.containerReadyMs,
      intervalMs: 250,
      signal: req.signal,
      now: () => deps.now(),
      ...(deps.sleep ? { sleep: deps.sleep } : {}),
    },
  );
}
