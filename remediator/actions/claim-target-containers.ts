import type { ContainerSelector } from '../../shared/config/types.js';
import type { ActionDeps, ActionRequest } from './action.js';
import type { CallLog } from './call-log.js';
import { describeSelector, type TargetContainer } from './list-target-containers.js';
import { proveOnThisNode, type NodeProof } from './prove-own-node.js';
import { recordTargetContainers } from './record-ownership.js';

/**
 * Before a container is stopped or restarted: none of them is the remediator's own, each is proved to run on this
 * node, and they are recorded as the target's (so an orphan they leave is known later). `proof` goes into the result.
 */
export async function claimTargetContainers(
  containers: readonly TargetContainer[],
  selector: ContainerSelector,
  req: ActionRequest,
  deps: ActionDeps,
  calls: CallLog,
): Promise<NodeProof> {
  if (deps.self.containerId !== null && containers.some((c) => c.id === deps.self.containerId))
    return { ok: false, detail: `refused: ${describeSelector(selector)} matches the remediator's own container` };
  const here = await proveOnThisNode(containers, deps, calls, req.signal);
  if (here.ok)
    await recordTargetContainers(
      deps,
      req.target.name,
      containers.map((c) => c.id),
    );
  return here;
}

/** The `before` evidence of a container restart: each container as it was, for actionHappened after a crash. */
export function containersBefore(how: string, containers: readonly TargetContainer[]) {
  return {
    how,
    containers: containers.map((c) => ({
      id: c.id,
      name: c.name,
      startedAt: c.startedAt,
      running: c.running,
      pid: c.pid,
    })),
  };
}
