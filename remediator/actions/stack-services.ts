import type Dockerode from 'dockerode';
import { forceUpdateCounter, type SwarmServiceInfo } from './swarm-service.js';

export interface StackServiceFacts {
  readonly id: string;
  readonly name: string;
  readonly version: number;
  readonly forceUpdate: number;
}

/** The services of a stack: `docker stack` is nothing but the label com.docker.stack.namespace=<stack>. */
export async function listStackServices(
  docker: Dockerode,
  stack: string,
  signal: AbortSignal,
): Promise<StackServiceFacts[]> {
  const services = (await docker.listServices({
    filters: { label: [`com.docker.stack.namespace=${stack}`] },
    abortSignal: signal,
  } as object)) as unknown as SwarmServiceInfo[];
  return services
    .filter((s) => s.Spec.Labels?.['com.docker.stack.namespace'] === stack)
    .map((s) => ({ id: s.ID, name: s.Spec.Name, version: s.Version.Index, forceUpdate: forceUpdateCounter(s) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Anything left of a removed stack (services, containers, networks): `docker stack rm` returns before it is gone. */
export async function stackLeftovers(docker: Dockerode, stack: string, signal: AbortSignal): Promise<number> {
  const filters = { label: [`com.docker.stack.namespace=${stack}`] };
  const [services, containers, networks] = await Promise.all([
    docker.listServices({ filters, abortSignal: signal } as object),
    docker.listContainers({ all: true, filters, abortSignal: signal } as object),
    docker.listNetworks({ filters, abortSignal: signal } as object),
  ]);
  return services.length + containers.length + networks.length;
}
