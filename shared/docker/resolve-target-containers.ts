import type { ContainerSelector } from '../config/types.js';
import { containerListFilter } from './container-list-filter.js';
import { isDockerNotFound, type DockerApi } from './docker-api.js';
import { toDockerContainer, type DockerContainer } from './docker-container.js';

/**
 * The running containers of one Ollama target (Compose service, Swarm service tasks, or one named container), sorted
 * by name. Each is inspected fresh: after a restart the id stays but the PID and start time change, and both are
 * read right after. A container that vanishes or stops between list and inspect is left out. Docker errors other
 * than that propagate (the caller decides whether that fails its run).
 */
export async function resolveTargetContainers(
  docker: DockerApi,
  selector: ContainerSelector,
  signal?: AbortSignal,
): Promise<DockerContainer[]> {
  const { filters, matches } = containerListFilter(selector);
  const listed = await docker.listContainers({ all: false, filters, abortSignal: signal });
  const found = await Promise.all(
    listed.filter(matches).map(async (c) => {
      try {
        return toDockerContainer(await docker.getContainer(c.Id).inspect({ abortSignal: signal }));
      } catch (err) {
        if (isDockerNotFound(err)) return null;
        throw err;
      }
    }),
  );
  return found
    .filter((c): c is DockerContainer => c !== null && c.running)
    .sort((a, b) => a.name.localeCompare(b.name));
}
