import type Docker from 'dockerode';
import type { ContainerSelector } from '../../shared/config/types.js';
import { containerListFilter } from '../../shared/docker/container-list-filter.js';

/**
 * StartedAt (Docker's nanosecond text) of every running container of a target, by container name: a restart keeps
 * the id and name but always changes this.
 */
export async function readStartTimes(docker: Docker, selector: ContainerSelector): Promise<Record<string, string>> {
  const { filters, matches } = containerListFilter(selector);
  const listed = (await docker.listContainers({ all: false, filters })).filter(matches);
  const out: Record<string, string> = {};
  for (const c of listed) {
    const info = await docker.getContainer(c.Id).inspect();
    if (info.State.Running) out[info.Name.replace(/^\//, '')] = info.State.StartedAt;
  }
  return out;
}
