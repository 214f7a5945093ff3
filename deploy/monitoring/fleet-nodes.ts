import type { FleetNode, FleetSettings } from './monitoring-config.js';

/**
 * The GPU nodes of a real fleet from the Docker Engine's node objects (`GET /nodes`, or
 * `docker node inspect $(docker node ls -q)`), for the per-node Alertmanager routes. Every node with the GPU label is
 * kept, drained or down ones included: a route to a node that sends nothing is harmless, and draining a node for
 * maintenance must not need a new Alertmanager config. The address is the one Prometheus scrapes (the same rule as
 * the `0.0.0.0` relabeling in render-fleet-prometheus.ts). Throws one error listing every malformed node.
 */
export function fleetNodes(json: unknown, settings: Pick<FleetSettings, 'gpuNodeLabel'>): FleetNode[] {
  if (!Array.isArray(json))
    throw new Error(
      'expected a JSON array of Swarm nodes, as `docker node inspect $(docker node ls -q)` prints or GET /nodes answers',
    );
  const [label, value] = settings.gpuNodeLabel;
  const problems: string[] = [];
  const nodes: FleetNode[] = [];
  json.forEach((raw: unknown, i) => {
    const n = raw as SwarmNode | null;
    const where = `node ${i}${typeof n?.ID === 'string' ? ` (${n.ID})` : ''}`;
    if (typeof n !== 'object' || n === null || typeof n.ID !== 'string' || n.ID === '') {
      problems.push(`${where}: no ID: is this the output of \`docker node inspect\`?`);
      return;
    }
    if (n.Spec?.Labels?.[label] !== value) return;
    const address = nodeAddress(n);
    if (address === undefined) {
      problems.push(`${where}: no usable Status.Addr (nor ManagerStatus.Addr for a manager reporting 0.0.0.0)`);
      return;
    }
    nodes.push({ id: n.ID, address, hostname: n.Description?.Hostname ?? '' });
  });
  if (problems.length > 0) throw new Error(`bad Swarm node list:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  if (nodes.length === 0)
    throw new Error(
      `no node carries the label ${label}=${value}: add it with \`docker node update --label-add ${label}=${value} <node>\``,
    );
  return nodes.sort((a, b) => a.hostname.localeCompare(b.hostname) || a.id.localeCompare(b.id));
}

/** The fields of a Docker Engine node object this reads. */
interface SwarmNode {
  readonly ID?: unknown;
  readonly Spec?: { readonly Labels?: Readonly<Record<string, string>> };
  readonly Description?: { readonly Hostname?: string };
  readonly Status?: { readonly Addr?: string };
  readonly ManagerStatus?: { readonly Addr?: string };
}

/** Status.Addr; a manager may report 0.0.0.0 there, then the host of its manager address ("10.0.0.1:2377"). */
function nodeAddress(n: SwarmNode): string | undefined {
  const addr = n.Status?.Addr;
  if (addr && addr !== '0.0.0.0') return addr;
  const manager = /^(.+):\d+$/.exec(n.ManagerStatus?.Addr ?? '');
  return manager?.[1]?.replace(/^\[(.*)\]$/, '$1'); // "[2001:db8::1]:2377" -> 2001:db8::1
}

/**
 * The managers of a real fleet from the same node list, GPU or not: the fleet remediator runs on each (global on
 * `node.role == manager`), and Alertmanager sends the fleet's alerts to all of them. Throws when the list has none.
 */
export function fleetManagers(json: unknown): FleetNode[] {
  if (!Array.isArray(json)) throw new Error('expected a JSON array of Swarm nodes, as `docker node inspect` prints');
  const managers: FleetNode[] = [];
  for (const raw of json as (SwarmNode & { Spec?: { Role?: string } })[]) {
    if (raw?.Spec?.Role !== 'manager' || typeof raw.ID !== 'string') continue;
    const address = nodeAddress(raw);
    if (address !== undefined) managers.push({ id: raw.ID, address, hostname: raw.Description?.Hostname ?? '' });
  }
  if (managers.length === 0)
    throw new Error('no manager in the node list: run `docker node inspect $(docker node ls -q)` on a manager');
  return managers.sort((a, b) => a.hostname.localeCompare(b.hostname) || a.id.localeCompare(b.id));
}
