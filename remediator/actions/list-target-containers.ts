import type Dockerode from 'dockerode';
import type { ContainerSelector } from '../../shared/config/types.js';
import { containerListFilter } from '../../shared/docker/container-list-filter.js';
import { isDockerNotFound, type ListedContainer } from '../../shared/docker/docker-api.js';

/** A target container as restart/recreate need it: StartedAt is kept raw, it is the before/after evidence. */
export interface TargetContainer {
  readonly id: string;
  readonly name: string;
  readonly running: boolean;
  readonly status: string;
  /** As Docker writes it (nanosecond RFC 3339); "0001-01-01T00:00:00Z" when never started. */
  readonly startedAt: string;
  readonly pid: number;
  /** Its labels (a Swarm task's com.docker.swarm.node.id names its node). */
  readonly labels: Readonly<Record<string, string>>;
}

interface InspectState {
  Id: string;
  Name: string;
  State: { Running: boolean; Status: string; StartedAt: string; Pid: number };
  Config?: { Labels?: Record<string, string> | null };
}

export function toTargetContainer(info: InspectState): TargetContainer {
  return {
    id: info.Id,
    name: info.Name.replace(/^\//, ''),
    running: info.State.Running,
    status: info.State.Status,
    startedAt: info.State.StartedAt,
    pid: info.State.Pid,
    labels: info.Config?.Labels ?? {},
  };
}

/**
 * The target's containers in ANY state (a crashed Ollama container is exactly what a restart is for), matched exactly
 * as resolveTargetContainers does: Compose project + service labels without one-off `compose run` containers, or the
 * exact name. Sorted by name.
 */
export async function listTargetContainers(
  docker: Dockerode,
  selector: ContainerSelector,
  signal: AbortSignal,
): Promise<TargetContainer[]> {
  const { filters, matches } = containerListFilter(selector);
  const { status: _running, ...anyState } = filters;
  const listed = (await docker.listContainers({
    all: true,
    filters: anyState,
    abortSignal: signal,
  } as Dockerode.ContainerListOptions)) as unknown as ListedContainer[];
  const found: TargetContainer[] = [];
  for (const c of listed.filter(matches)) {
    try {
      found.push(
        toTargetContainer(
          (await docker.getContainer(c.Id).inspect({ abortSignal: signal })) as unknown as InspectState,
        ),
      );
    } catch (err) {
      if (!isDockerNotFound(err)) throw err;
    }
  }
  return found.sort((a, b) => a.name.localeCompare(b.name));
}

/** Inspect one container; null when Docker no longer knows it. */
export async function inspectTargetContainer(
  docker: Dockerode,
  id: string,
  signal: AbortSignal,
): Promise<TargetContainer | null> {
  try {
    return toTargetContainer(
      (await docker.getContainer(id).inspect({ abortSignal: signal })) as unknown as InspectState,
    );
  } catch (err) {
    if (isDockerNotFound(err)) return null;
    throw err;
  }
}

/** `GET /containers/json?...` as the calls log shows it, for resolving a selector's containers. */
export function describeContainerList(selector: ContainerSelector, all = false): string {
  const { filters } = containerListFilter(selector);
  const shown = all ? Object.fromEntries(Object.entries(filters).filter(([k]) => k !== 'status')) : filters;
  return `GET /containers/json?${all ? 'all=1&' : ''}filters=${JSON.stringify(shown)}`;
}

/** The selector in words, for `detail`. */
export function describeSelector(selector: ContainerSelector): string {
  switch (selector.kind) {
    case 'compose':
      return `Compose service ${selector.project}/${selector.service}`;
    case 'swarm':
      return `Swarm service ${selector.stack ? `${selector.stack}/` : ''}${selector.service}`;
    case 'container':
      return `container ${selector.name}`;
  }
}
