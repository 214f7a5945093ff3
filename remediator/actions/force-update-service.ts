import { swarmServiceName } from '../../shared/docker/container-list-filter.js';
import type { ActionDeps, ActionRequest, ActionResult } from './action.js';
import { errorText, type CallLog } from './call-log.js';
import { serviceConverged, type Convergence } from './service-converged.js';
import { forceUpdateCounter, inspectService, listDesiredRunningTasks, type SwarmServiceInfo } from './swarm-service.js';
import { boundedSignal, waitUntil } from './wait-until.js';

/** The service label naming the incident a fleet force update was for (ActionRequest.healMarker). */
export const HEAL_LABEL = 'ollama-sentinel.heal';

/** Stale-index retries: a rolling update bumps the index itself (swarmkit#1379), so a few are normal. */
const MAX_ATTEMPTS = 5;

/**
 * `docker service update --force` through the API: the FULL current spec with TaskTemplate.ForceUpdate + 1 at the
 * inspected Version.Index (a partial spec would replace everything), retried on "update out of sequence", then
 * waited on until every task runs with the new counter. The resolved image digest stays pinned: a pure restart.
 */
export async function forceUpdateService(req: ActionRequest, deps: ActionDeps, calls: CallLog): Promise<ActionResult> {
  const { target, signal } = req;
  const result = calls.result.bind(calls);
  const selector = target.container;
  if (selector?.kind !== 'swarm') {
    return result(
      'skipped',
      `target ${target.name} is not a Swarm service (${selector?.kind ?? 'no container selector'})`,
    );
  }
  const name = swarmServiceName(selector);
  if (deps.self.swarmService !== undefined && name === deps.self.swarmService) {
    return result('failed', `refused: ${name} is the remediator's own service`);
  }

  const dockerSignal = () => boundedSignal(signal, deps.timeouts.dockerMs);
  calls.read(`GET /services/${name}`);
  let info = await inspectService(deps.docker, name, dockerSignal());
  if (!info) return result('failed', `no Swarm service ${name}: cannot prove the target`);
  if (selector.stack && info.Spec.Labels?.['com.docker.stack.namespace'] !== selector.stack) {
    return result('failed', `service ${name} is not part of stack ${selector.stack}: cannot prove the target`);
  }
  calls.read(`GET /tasks?filters={"service":["${info.ID}"],"desired-state":["running"]}`);
  const tasks = await listDesiredRunningTasks(deps.docker, info.ID, dockerSignal());
  if (
    deps.self.containerId !== null &&
    tasks.some((t) => t.Status?.ContainerStatus?.ContainerID === deps.self.containerId)
  ) {
    return result('failed', `refused: a task of ${name} is the remediator's own container`);
  }

  if (req.healMarker !== undefined && info.Spec.Labels?.[HEAL_LABEL] === req.healMarker) {
    // Fleet scope: another manager's remediator restarted the fleet for this very incident (after a fail-over this
    // one has none of its journal, and Alertmanager sends the firing alerts again): never a second time. Its rolling
    // restart is waited out as this step's own: the alerts it causes (an API down while a node's task restarts) are
    // then this step's, not a new fleet-wide fault for this remediator to restart the fleet for again.
    const counter = forceUpdateCounter(info);
    const marked = `already done by another remediator: ${name} carries ${HEAL_LABEL}=${JSON.stringify(req.healMarker)} (ForceUpdate ${counter}); not updated again`;
    calls.read(`poll GET /services/${info.ID} and GET /tasks until every task runs with ForceUpdate ${counter}`);
    const converged = await waitServiceConverged(info.ID, counter, req, deps);
    return converged.state === 'converged'
      ? result('done', `${marked}; converged`)
      : result('failed', `${marked}; not converged within ${deps.timeouts.convergeMs} ms: ${converged.why}`);
  }

  const from = forceUpdateCounter(info);
  const before = {
    service: name,
    serviceId: info.ID,
    version: info.Version.Index,
    forceUpdate: from,
    taskIds: tasks.map((t) => t.ID).sort(),
  };
  const to = from + 1;
  const marking = req.healMarker !== undefined ? `, label ${HEAL_LABEL}=${JSON.stringify(req.healMarker)}` : '';
  if (req.dryRun) {
    calls.write(
      `POST /services/${info.ID}/update?version=${info.Version.Index} (full spec, TaskTemplate.ForceUpdate ${from} -> ${to}${marking})`,
    );
    calls.write(`poll GET /services/${info.ID} and GET /tasks until every task runs with ForceUpdate ${to}`);
    return result(
      'skipped',
      `dry-run: would force-update ${name} (ForceUpdate ${from} -> ${to}, ${tasks.length} task(s))`,
      before,
    );
  }
  await req.onBefore?.(before);

  let applied = to;
  let byOther = false;
  for (let attempt = 1; ; attempt++) {
    const current: SwarmServiceInfo = info;
    if (forceUpdateCounter(current) > from) {
      // Our earlier attempt (whose answer was lost) or someone else already forced it: do not restart twice.
      applied = forceUpdateCounter(current);
      byOther = attempt > 1 && req.healMarker !== undefined && current.Spec.Labels?.[HEAL_LABEL] === req.healMarker;
      break;
    }
    const spec = structuredClone(current.Spec) as SwarmServiceInfo['Spec'] & {
      TaskTemplate: { ForceUpdate?: number };
      Labels?: Record<string, string>;
    };
    spec.TaskTemplate.ForceUpdate = to;
    // In the same update, fenced by the same Version.Index: the marker and the restart are applied together or not.
    if (req.healMarker !== undefined) spec.Labels = { ...spec.Labels, [HEAL_LABEL]: req.healMarker };
    calls.write(
      `POST /services/${current.ID}/update?version=${current.Version.Index} (full spec, TaskTemplate.ForceUpdate ${from} -> ${to}${marking})`,
    );
    try {
      await deps.docker.getService(current.ID).update({
        _query: { version: current.Version.Index },
        _body: spec,
        abortSignal: dockerSignal(),
      } as unknown as object);
      break;
    } catch (err) {
      if (signal.aborted) throw err;
      const status = (err as { statusCode?: unknown }).statusCode;
      // A stale index is certainly not applied; a lost answer may have been: both re-inspect and decide again.
      if ((isOutOfSequence(err) || typeof status !== 'number') && attempt < MAX_ATTEMPTS) {
        deps.log.info(
          { incident: req.incidentId, service: name, attempt, err: errorText(err) },
          'service update retried',
        );
        calls.read(`GET /services/${name}`);
        const fresh = await inspectService(deps.docker, name, dockerSignal());
        if (!fresh) return result('failed', `service ${name} disappeared during the update`, before);
        info = fresh;
        continue;
      }
      return result('failed', `update of ${name} failed after ${attempt} attempt(s): ${errorText(err)}`, before);
    }
  }

  calls.read(`poll GET /services/${before.serviceId} and GET /tasks until every task runs with ForceUpdate ${applied}`);
  const converged = await waitServiceConverged(before.serviceId, applied, req, deps);
  if (converged.state !== 'converged') {
    return result(
      'failed',
      `${name} force-updated (ForceUpdate ${from} -> ${applied}) but not converged within ${deps.timeouts.convergeMs} ms: ${converged.why}`,
      before,
    );
  }
  return result(
    'done',
    `${byOther ? 'already done by another remediator (it won the update, this one was out of sequence): ' : ''}force-updated ${name}: ForceUpdate ${from} -> ${applied}, converged with task(s) ${converged.taskIds.map((t) => t.slice(0, 12)).join(', ')} (before: ${before.taskIds.map((t) => t.slice(0, 12)).join(', ') || 'none'})`,
    before,
  );
}

/** Polls until converged, failed, or the converge deadline; the last verdict is returned. */
export async function waitServiceConverged(
  serviceId: string,
  forceUpdate: number | undefined,
  req: Pick<ActionRequest, 'signal'>,
  deps: ActionDeps,
): Promise<Convergence> {
  let last: Convergence = { state: 'pending', why: 'not inspected yet' };
  const dockerSignal = () => boundedSignal(req.signal, deps.timeouts.dockerMs);
  const verdict = await waitUntil(
    async () => {
      const info = await inspectService(deps.docker, serviceId, dockerSignal());
      if (!info) return (last = { state: 'failed', why: 'the service disappeared' });
      last = serviceConverged(info, await listDesiredRunningTasks(deps.docker, serviceId, dockerSignal()), forceUpdate);
      return last.state === 'pending' ? undefined : last;
    },
    {
      timeoutMs: deps.timeouts.convergeMs,
      intervalMs: 500,
      signal: req.signal,
      now: () => deps.now(),
      ...(deps.sleep ? { sleep: deps.sleep } : {}),
    },
  );
  return verdict ?? last;
}

/** Swarm's answer to a stale Version.Index (moby#30794): the update was NOT applied; re-inspect and retry. */
export function isOutOfSequence(err: unknown): boolean {
  return /update out of sequence/i.test(errorText(err));
}
