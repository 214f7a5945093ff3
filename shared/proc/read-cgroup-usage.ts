import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerUsage } from './container-usage.js';
import { parseBlkioServiceBytes } from './parse-blkio-service-bytes.js';
import { parseCgroupPathContainerId } from './parse-cgroup-container-id.js';
import { parseCgroupPaths } from './parse-cgroup-paths.js';
import { parseFlatKeyed } from './parse-flat-keyed.js';
import { parseIoStat } from './parse-io-stat.js';
import { parseSingleValue } from './parse-single-value.js';

export interface CgroupUsageQuery {
  /** Host /proc as seen by this process. */
  readonly procRoot: string;
  /** Host cgroup mount as seen by this process (normally /sys/fs/cgroup). */
  readonly cgroupRoot: string;
  /** Any PID inside the container, normally its main process (State.Pid). */
  readonly pid: number;
  /** The container the PID should belong to; anything else is refused (the PID may have been reused). */
  readonly containerId: string;
}

/** A path we may join under the cgroup root: absolute, no "..", which a private cgroup namespace would show. */
function safePath(path: string): boolean {
  return path.startsWith('/') && !path.split('/').includes('..');
}

async function text(path: string): Promise<string> {
  return readFile(path, 'utf8');
}

async function readV2(dir: string): Promise<Omit<ContainerUsage, 'source'>> {
  const [cpu, current, memStat, io] = await Promise.all([
    text(join(dir, 'cpu.stat')),
    text(join(dir, 'memory.current')),
    text(join(dir, 'memory.stat')),
    text(join(dir, 'io.stat')),
  ]);
  const usageUsec = parseFlatKeyed(cpu).get('usage_usec');
  if (usageUsec === undefined) throw new Error('cpu.stat lacks usage_usec');
  const usage = parseSingleValue(current);
  const inactive = parseFlatKeyed(memStat).get('inactive_file') ?? 0;
  const { readBytes, writeBytes } = parseIoStat(io);
  return { cpuSeconds: usageUsec / 1e6, memoryBytes: Math.max(0, usage - inactive), ioReadBytes: readBytes, ioWriteBytes: writeBytes };
}

/** First readable candidate: v1 hierarchies are mounted as "cpu,cpuacct" with "cpuacct" as a symlink, or alone. */
async function firstText(paths: readonly string[]): Promise<string> {
  let lastErr: unknown;
  for (const p of paths) {
    try {
      return await text(p);
    } catch (err) {
      lastErr = err;
    }
  }
  throw lastErr;
}

async function readV1(
  cgroupRoot: string,
  v1: ReturnType<typeof parseCgroupPaths>['v1'],
  containerId: string,
): Promise<Omit<ContainerUsage, 'source'>> {
  const dirs = (controller: string): string[] => {
    const entry = v1.get(controller);
    if (!entry || !safePath(entry.path) || parseCgroupPathContainerId(entry.path) !== containerId) {
      throw new Error(`no ${controller} cgroup of the container`);
    }
    return [...new Set([entry.mount, controller])].map((m) => join(cgroupRoot, m, entry.path));
  };
  const cpuDirs = dirs('cpuacct');
  const memDirs = dirs('memory');
  const blkDirs = dirs('blkio');
  const [cpu, usage, memStat, blkio] = await Promise.all([
    firstText(cpuDirs.map((d) => join(d, 'cpuacct.usage'))),
    firstText(memDirs.map((d) => join(d, 'memory.usage_in_bytes'))),
    firstText(memDirs.map((d) => join(d, 'memory.stat'))),
    // The recursive file includes child cgroups (present since 4.x); the plain one is the fallback.
    firstText(blkDirs.flatMap((d) => [join(d, 'blkio.throttle.io_service_bytes_recursive'), join(d, 'blkio.throttle.io_service_bytes')])),
  ]);
  const inactive = parseFlatKeyed(memStat).get('total_inactive_file') ?? 0;
  const { readBytes, writeBytes } = parseBlkioServiceBytes(blkio);
  return {
    cpuSeconds: parseSingleValue(cpu) / 1e9,
    memoryBytes: Math.max(0, parseSingleValue(usage) - inactive),
    ioReadBytes: readBytes,
    ioWriteBytes: writeBytes,
  };
}

/**
 * A container's usage straight from its cgroup files (no daemon round trip), for cgroup v2 (unified mount at the
 * root) and v1 (one mount per controller). Null whenever the files are not visible or do not provably belong to the
 * container (the PID's cgroup path must carry its id): the caller then asks the Docker stats API instead.
 */
export async function readCgroupUsage(q: CgroupUsageQuery): Promise<ContainerUsage | null> {
  if (!Number.isSafeInteger(q.pid) || q.pid <= 0) return null;
  try {
    const paths = parseCgroupPaths(await text(join(q.procRoot, String(q.pid), 'cgroup')));
    const isV2Root = await access(join(q.cgroupRoot, 'cgroup.controllers')).then(() => true, () => false);
    if (isV2Root && paths.unified !== null) {
      if (!safePath(paths.unified) || parseCgroupPathContainerId(paths.unified) !== q.containerId) return null;
      return { ...(await readV2(join(q.cgroupRoot, paths.unified))), source: 'cgroup_v2' };
    }
    return { ...(await readV1(q.cgroupRoot, paths.v1, q.containerId)), source: 'cgroup_v1' };
  } catch {
    // Not visible from here (other namespace, missing mount, process gone): a fallback exists, so no error.
    return null;
  }
}
