import type Dockerode from 'dockerode';
import { isDockerNotFound } from '../../shared/docker/docker-api.js';

/** GET /services/{id} and GET /tasks, the fields the Swarm actions read. */
export interface SwarmServiceInfo {
  readonly ID: string;
  readonly Version: { readonly Index: number };
  readonly Spec: SwarmServiceSpec;
  readonly UpdateStatus?: {
    readonly State?: string;
    readonly Message?: string;
    readonly StartedAt?: string;
    readonly CompletedAt?: string;
  };
}

export interface SwarmServiceSpec {
  readonly Name: string;
  readonly Labels?: Record<string, string>;
  readonly TaskTemplate: { readonly ForceUpdate?: number; readonly [key: string]: unknown };
  readonly Mode?: {
    readonly Replicated?: { readonly Replicas?: number };
    readonly Global?: object;
    readonly [key: string]: unknown;
  };
  readonly [key: string]: unknown;
}

export interface SwarmTask {
  readonly ID: string;
  readonly ServiceID: string;
  readonly DesiredState: string;
  readonly Spec?: { readonly ForceUpdate?: number };
  readonly Status?: {
    readonly State?: string;
    readonly Err?: string;
    readonly ContainerStatus?: { readonly ContainerID?: string };
  };
}

/** Inspect a service by name or id; null when Swarm does not know it. */
export async function inspectService(
  docker: Dockerode,
  nameOrId: string,
  signal: AbortSignal,
): Promise<SwarmServiceInfo | null> {
  try {
    return (await docker.getService(nameOrId).inspect({ abortSignal: signal } as object)) as SwarmServiceInfo;
  } catch (err) {
    if (isDockerNotFound(err)) return null;
    throw err;
  }
}

/** Tasks Swarm wants running for one service (old tasks being shut down have DesiredState "shutdown"). */
export async function listDesiredRunningTasks(
  docker: Dockerode,
  serviceId: string,
  signal: AbortSignal,
): Promise<SwarmTask[]> {
  const tasks = (await docker.listTasks({
    filters: { service: [serviceId], 'desired-state': ['running'] },
    abortSignal: signal,
  } as object)) as SwarmTask[];
  // The filter matches by name prefix too (service "a" also finds "a_b"'s tasks): keep exact ids only.
  return tasks.filter((t) => t.ServiceID === serviceId);
}

export function forceUpdateCounter(info: SwarmServiceInfo): number {
  return info.Spec.TaskTemplate.ForceUpdate ?? 0;
}
