import type { EngineRequest, EngineReply } from './fake-docker-engine.js';

export interface SwarmManagerState {
  /** GET /info: this Docker's Swarm node and whether it is a manager (Swarm.ControlAvailable). */
  nodeId: string;
  manager: boolean;
  version: number;
  force: number;
  labels: Record<string, string>;
  /** Nodes the service has a desired-running task on (one task each, as a global service; one entry = a sole task). */
  taskNodes: string[];
  /** Mode of the service: global, or replicated with one replica per task node. */
  mode: 'global' | 'replicated';
  /** Every POST /services/{id}/update, applied or not. */
  updates: EngineRequest[];
  /** Updates Swarm applied (at the current Version.Index). */
  applied: number;
  /** GET /services/{id} answers are held until this many inspects arrived (two managers reading the same index). */
  holdInspectsUntil: number;
  /** Another manager's rolling update in progress: this many GET /tasks still list the tasks on the old counter. */
  rollingTaskLists: number;
}

/**
 * A Swarm manager's Docker Engine API for one service, `fleet_ollama` (id svc-fleet), as the fleet actions use it:
 * GET /info, GET /services/{name|id}, GET /tasks, and POST /services/{id}/update fenced on Version.Index exactly as
 * swarmkit does (a stale index is refused "update out of sequence" and nothing changes). An applied update takes the
 * spec's ForceUpdate and labels; its tasks then run with the new counter at once.
 */
export function fakeSwarmManager(over: Partial<SwarmManagerState> = {}) {
  const state: SwarmManagerState = {
    nodeId: 'mmmmmmmmmmmmmmmmmmmmmmmm0',
    manager: true,
    version: 10,
    force: 0,
    labels: { 'com.docker.stack.namespace': 'fleet' },
    taskNodes: ['aaaaaaaaaaaaaaaaaaaaaaaa1', 'bbbbbbbbbbbbbbbbbbbbbbbb2', 'cccccccccccccccccccccccc3'],
    mode: 'global',
    updates: [],
    applied: 0,
    holdInspectsUntil: 0,
    rollingTaskLists: 0,
    ...over,
  };
  let inspects = 0;
  let release: () => void = () => undefined;
  const held = new Promise<void>((r) => (release = r));
  const service = () => ({
    ID: 'svc-fleet',
    Version: { Index: state.version },
    Spec: {
      Name: 'fleet_ollama',
      Labels: { ...state.labels },
      TaskTemplate: { ContainerSpec: { Image: 'ollama/ollama@sha256:abc' }, ForceUpdate: state.force },
      Mode: state.mode === 'global' ? { Global: {} } : { Replicated: { Replicas: state.taskNodes.length } },
    },
    UpdateStatus: { State: 'completed' },
  });
  const route = async (r: EngineRequest): Promise<EngineReply> => {
    if (r.method === 'GET' && r.path.endsWith('/info'))
      return {
        status: 200,
        json: {
          Name: 'manager-1',
          Swarm: { NodeID: state.nodeId, LocalNodeState: 'active', ControlAvailable: state.manager },
        },
      };
    if (r.method === 'GET' && /\/services\/(fleet_ollama|svc-fleet)$/.test(r.path)) {
      const answer = service(); // read before waiting: both managers see the same index
      if (++inspects >= state.holdInspectsUntil) release();
      else await held;
      return { status: 200, json: answer };
    }
    if (r.method === 'GET' && r.path.endsWith('/tasks')) {
      const force = state.rollingTaskLists-- > 0 ? state.force - 1 : state.force;
      return {
        status: 200,
        json: state.taskNodes.map((node, i) => ({
          ID: `task-${i}-${force}`,
          ServiceID: 'svc-fleet',
          NodeID: node,
          DesiredState: 'running',
          Spec: { ForceUpdate: force },
          Status: { State: 'running', ContainerStatus: { ContainerID: `${i}`.repeat(64) } },
        })),
      };
    }
    if (r.method === 'POST' && r.path.endsWith('/services/svc-fleet/update')) {
      state.updates.push(r);
      if (Number(r.query.get('version')) !== state.version)
        return { status: 500, json: { message: 'rpc error: code = Unknown desc = update out of sequence' } };
      const body = r.body as { TaskTemplate: { ForceUpdate?: number }; Labels?: Record<string, string> };
      state.force = body.TaskTemplate.ForceUpdate ?? 0;
      state.labels = { ...body.Labels };
      state.version++;
      state.applied++;
      return { status: 200, json: { Warnings: null } };
    }
    return undefined;
  };
  return { state, route };
}
