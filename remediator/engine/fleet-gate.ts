import type { OllamaTargetConfig } from '../../shared/config/types.js';
import { swarmServiceName } from '../../shared/docker/container-list-filter.js';
import type { GroupSnapshots } from '../incidents/group-snapshots.js';
import type { Incident } from '../incidents/incident.js';
import { clockSignal } from './clock.js';
import type { EngineContext } from './engine-context.js';

export type FleetVerdict =
  { readonly ok: true; readonly proof: string } | { readonly ok: false; readonly detail: string };

/**
 * node_scope fleet: whether an incident's fault is the fleet's, so that a service-level step (which restarts the
 * service on EVERY node) may be taken for it. A fault on one node of a global service is that node's: restarting the
 * fleet for it is the false heal this product must never do, so it is left to that node's remediator.
 *
 * Incidents need no new key for this: an incident is one rule on one target (IncidentBook.findOpen), and in a fleet
 * every node's target has the same name, so the same condition's alerts from different nodes already join one
 * incident here (a node remediator never sees two nodes' alerts, so the key never had to hold the node). Counting the
 * distinct `node` labels of the incident's firing alerts is then the fleet-level test: one node's alert opens the
 * incident and waits; a second node's alert joins it and wakes it.
 *
 * Fleet-level: the firing alerts name at least fleet_min_nodes distinct nodes, or the target's service is replicated
 * with one replica (one service per node or per model: restarting it touches that one node only). By the service's
 * mode, never by counting tasks: a global service in a rolling update (seen on the test fleet, during this very
 * remediator's restart of it) or with nodes down can have one task left, and restarting it again for the one node
 * still firing restarts the fleet twice.
 */
export async function fleetGate(ctx: EngineContext, inc: Incident, target: OllamaTargetConfig): Promise<FleetVerdict> {
  const { nodes, gone } = firingNodes(inc, ctx.cfg.node_label, ctx.groups);
  const min = ctx.cfg.fleet_min_nodes;
  if (nodes.length >= min) return { ok: true, proof: `firing on ${nodes.length} nodes (${nodes.join(', ')})` };
  const service = target.container?.kind === 'swarm' ? swarmServiceName(target.container) : undefined;
  const notCounted = gone.length
    ? `; not counted: ${gone.join(', ')} (its group's latest notification no longer lists it firing)`
    : '';
  const local = `fault on ${nodes.length} node${nodes.length === 1 ? '' : 's'} (${nodes.join(', ') || 'none named'}${notCounted}): node-local, left to that node's remediator`;
  if (service === undefined || !ctx.ports.serviceReplicas)
    return { ok: false, detail: `${local} (fewer than fleet_min_nodes ${min})` };
  const s = clockSignal(ctx.clock, 30_000, 'inspecting the service timed out', ctx.abortSteps);
  let replicas: number | 'global';
  try {
    replicas = await ctx.ports.serviceReplicas(target, s.signal);
  } catch (err) {
    return {
      ok: false,
      detail: `${local} (fewer than fleet_min_nodes ${min}; cannot tell whether ${service} has one task: ${(err as Error).message})`,
    };
  } finally {
    s.dispose();
  }
  if (replicas === 1) return { ok: true, proof: `the service ${service} has one task: restarting it touches one node` };
  const mode = replicas === 'global' ? 'is global, a task on every node' : `has ${replicas} replicas`;
  return { ok: false, detail: `${local} (fewer than fleet_min_nodes ${min}; ${service} ${mode})` };
}

/**
 * The distinct nodes the incident's firing alerts name, sorted; `gone`: nodes whose only firing alerts are ones their
 * group's latest notification no longer lists firing (see GroupSnapshots): never counted.
 */
export function firingNodes(
  inc: Incident,
  nodeLabel: string,
  groups: Pick<GroupSnapshots, 'stillFiring'>,
): { nodes: string[]; gone: string[] } {
  const nodes = new Set<string>();
  const gone = new Set<string>();
  for (const a of inc.alerts) {
    const node = a.labels[nodeLabel];
    if (a.status !== 'firing' || !node) continue;
    if (groups.stillFiring(a.groupKey, a.fingerprint)) nodes.add(node);
    else gone.add(node);
  }
  return { nodes: [...nodes].sort(), gone: [...gone].filter((n) => !nodes.has(n)).sort() };
}

/**
 * The `ollama-sentinel.heal` label value a fleet force update writes on the service: the incident as every manager's
 * remediator names it alike (its earliest alert's alertname and startsAt, and the target), so a remediator on another
 * manager, which has none of this one's journal after a fail-over, sees that this incident's restart was done.
 */
export function healMarker(inc: Incident): string {
  const first = [...inc.alerts].sort((a, b) => Date.parse(a.startsAt) - Date.parse(b.startsAt))[0];
  return `${first?.labels.alertname ?? inc.rule} ${inc.target} ${first?.startsAt ?? new Date(inc.openedAt).toISOString()}`;
}
