import type { ActionDeps, ActionName } from './action.js';
import type { CallLog } from './call-log.js';
import { boundedSignal } from './wait-until.js';

/** The label Swarm puts on every task container: the node the task was scheduled on. */
export const SWARM_NODE_LABEL = 'com.docker.swarm.node.id';

export type NodeProof = { readonly ok: true; readonly proof: string } | { readonly ok: false; readonly detail: string };

/**
 * Container-level steps (restart, stop + start, runner kills) act only on containers this node's Docker lists; in a
 * Swarm each listed task container must also carry this node's id in its com.docker.swarm.node.id label. The local
 * socket already lists only local containers: the label check makes that proof explicit in the audit log, and refuses
 * if a socket ever reaches another node's daemon (a TCP docker.host pointing elsewhere).
 */
export async function proveOnThisNode(
  containers: readonly { readonly name: string; readonly labels: Readonly<Record<string, string>> }[],
  deps: ActionDeps,
  calls: CallLog,
  signal: AbortSignal,
): Promise<NodeProof> {
  if (!deps.ownNode) return { ok: true, proof: '' };
  calls.read('GET /info (Swarm.NodeID: which node this Docker is)');
  const node = await deps.ownNode(boundedSignal(signal, deps.timeouts.dockerMs));
  for (const c of containers) {
    const on = c.labels[SWARM_NODE_LABEL];
    if (on === undefined) continue;
    if (node.state !== 'swarm')
      return {
        ok: false,
        detail: `refused: container ${c.name} is a Swarm task of node ${on} and this node cannot be told (${node.detail}): cannot prove it runs here`,
      };
    if (on !== node.id)
      return {
        ok: false,
        detail: `refused: container ${c.name} belongs to node ${on} (${SWARM_NODE_LABEL}), this is node ${node.id}: never acted on from here`,
      };
  }
  if (node.state !== 'swarm') return { ok: true, proof: ` [listed by this host's Docker: ${node.detail}]` };
  const tasks = containers.some((c) => c.labels[SWARM_NODE_LABEL] !== undefined);
  return {
    ok: true,
    proof: ` [on this node ${node.id}: listed by its Docker${tasks ? `, ${SWARM_NODE_LABEL} = ${node.id}` : ''}]`,
  };
}

/** Steps on a Swarm service or stack: they act through the services API, which only a manager answers. */
export const SERVICE_LEVEL: readonly ActionName[] = ['force_update_service', 'redeploy_stack'];

/**
 * Why a service-level step must not run on this node (a Swarm worker), or null. Refused here, with the reason, rather
 * than left to fail on the daemon's "This node is not a swarm manager": the decision is in the audit log in words.
 */
export async function refuseOnWorker(
  action: string,
  deps: ActionDeps,
  calls: CallLog,
  signal: AbortSignal,
): Promise<string | null> {
  if (!deps.ownNode) return null;
  calls.read('GET /info (Swarm.ControlAvailable: whether this node is a manager)');
  const node = await deps.ownNode(boundedSignal(signal, deps.timeouts.dockerMs));
  if (node.state !== 'swarm' || node.manager !== false) return null;
  return `refused on a Swarm worker (${node.detail}): ${action} acts on the service on every node and needs a manager; heal this node with node-local steps, or let a manager's remediator act`;
}
