import type { ContainerUsage } from '../proc/read-cgroup-usage.js';
import type { DockerApi } from './docker-api.js';

/**
 * One stats sample from the daemon. `one-shot` (API 1.41+) skips the daemon's second sample for precpu, which we do
 * not use (we export the CPU counter, Prometheus takes the rate), saving about a second per call.
 */
export async function readDockerStats(
  docker: DockerApi,
  id: string,
  signal?: AbortSignal,
): Promise<ContainerUsage | null> {
  return parseDockerStats(
    await docker.getContainer(id).stats({ stream: false, 'one-shot': true, abortSignal: signal }),
  );
}

type Json = { readonly [key: string]: unknown } | undefined;

function obj(value: unknown): Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/**
 * One-shot `GET /containers/{id}/stats?stream=false` -> usage. Memory follows the docker CLI: usage minus inactive
 * file cache (`total_inactive_file` on cgroup v1, `inactive_file` on v2). Block IO sums `io_service_bytes_recursive`
 * over devices; ops are "Read"/"Write" on v1 and lower-case on v2, and the list is null when there was no IO yet.
 * Returns null when the answer lacks CPU or memory (a stopped container answers with zeros and no usage).
 */
export function parseDockerStats(stats: unknown): ContainerUsage | null {
  const root = obj(stats);
  const cpuNs = num(obj(obj(root?.cpu_stats)?.cpu_usage)?.total_usage);
  const memory = obj(root?.memory_stats);
  const usage = num(memory?.usage);
  if (cpuNs === undefined || usage === undefined) return null;
  const memStats = obj(memory?.stats);
  const inactive = num(memStats?.total_inactive_file) ?? num(memStats?.inactive_file) ?? 0;

  let ioReadBytes = 0;
  let ioWriteBytes = 0;
  const entries = obj(root?.blkio_stats)?.io_service_bytes_recursive;
  if (Array.isArray(entries)) {
    for (const e of entries) {
      const rawOp = obj(e)?.op;
      const op = typeof rawOp === 'string' ? rawOp.toLowerCase() : '';
      const value = num(obj(e)?.value) ?? 0;
      if (op === 'read') ioReadBytes += value;
      else if (op === 'write') ioWriteBytes += value;
    }
  }
  return {
    cpuSeconds: cpuNs / 1e9,
    memoryBytes: Math.max(0, usage - inactive),
    ioReadBytes,
    ioWriteBytes,
    source: 'docker',
  };
}
