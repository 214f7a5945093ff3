import type { DockerReadApi } from '../../shared/docker/docker-api.js';
import { CollectError, type CollectContext, type Collector, type MetricSink } from '../collector.js';

/** Which machine this exporter runs on, as the Docker Engine and the OS name it. */
export interface NodeSnapshot {
  readonly hostname: string;
  /** Swarm node id; "" outside a Swarm or without Docker. */
  readonly nodeId: string;
  /** The daemon's host name (`docker info` Name); "" without Docker. */
  readonly nodeName: string;
  /** Swarm.LocalNodeState (inactive, pending, active, error, locked); "" without Docker. */
  readonly swarmState: string;
}

/**
 * A daemon's identity changes only when it joins or leaves a Swarm or is renamed: one GET /info a minute. Not rarer:
 * a failed read leaves the series out until the next run succeeds, and fleet queries join on it.
 */
export const NODE_INTERVAL_MS = 60_000;

export interface NodeDeps {
  /** Absent when the exporter does not use Docker (no container targets, gpu_processes off): Docker fields are "". */
  readonly docker?: Pick<DockerReadApi, 'info'>;
  /** os.hostname() of this process (in a container: its hostname, e.g. Swarm's `{{.Node.Hostname}}` template). */
  readonly hostname: string;
}

/**
 * The `node` collector: publishes `sentinel_node_info` once, so every series of this exporter can be tied to the
 * Swarm node (and host) it comes from, e.g. to check Prometheus' dockerswarm_sd `node` label or to join by hostname.
 */
export function createNodeCollector(opts: { readonly timeoutMs: number }, deps: NodeDeps): Collector<NodeSnapshot> {
  async function collect(ctx: CollectContext): Promise<NodeSnapshot> {
    const hostname = deps.hostname;
    if (!deps.docker) return { hostname, nodeId: '', nodeName: '', swarmState: '' };
    try {
      const info = await deps.docker.info({ abortSignal: ctx.signal });
      return {
        hostname,
        nodeId: info.Swarm?.NodeID ?? '',
        nodeName: info.Name ?? '',
        swarmState: info.Swarm?.LocalNodeState ?? '',
      };
    } catch (err) {
      ctx.signal.throwIfAborted();
      throw new CollectError('docker', `reading the Docker Engine's identity (GET /info): ${String(err)}`, {
        cause: err,
      });
    }
  }

  return { name: 'node', intervalMs: NODE_INTERVAL_MS, timeoutMs: opts.timeoutMs, collect, render };
}

function render(s: NodeSnapshot, sink: MetricSink): void {
  sink.gauge(
    'sentinel_node_info',
    "The node this exporter runs on (always 1): Swarm node id and state and the host name from the Docker Engine (empty when the exporter does not use Docker), and this process's hostname.",
    { hostname: s.hostname, node_id: s.nodeId, node_name: s.nodeName, swarm_state: s.swarmState },
    1,
  );
}
