import type { ContainerUsage } from '../proc/container-usage.js';
import type { DockerApi } from './docker-api.js';
import { parseDockerStats } from './parse-docker-stats.js';

/**
 * One stats sample from the daemon. `one-shot` (API 1.41+) skips the daemon's second sample for precpu, which we do
 * not use (we export the CPU counter, Prometheus takes the rate), saving about a second per call.
 */
export async function readDockerStats(docker: DockerApi, id: string, signal?: AbortSignal): Promise<ContainerUsage | null> {
  return parseDockerStats(await docker.getContainer(id).stats({ stream: false, 'one-shot': true, abortSignal: signal }));
}
