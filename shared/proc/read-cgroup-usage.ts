import { access, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseCgroupPathContainerId } from './parse-cgroup-container-id.js';

/** Cumulative resource use of one container, whatever source it was read from. */
export interface ContainerUsage {
  /** CPU time of all its processes, user + system. */
  readonly cpuSeconds: number;
  /** Working set: usage minus inactive file cache (what `docker stats` shows and what the OOM killer weighs). */
  readonly memoryBytes: number;
  readonly ioReadBytes: number;
  readonly ioWriteBytes: number;
  /** cgroup files read directly, or the Docker stats API. */
  readonly source: 'cgroup_v1' | 'cgroup_v2' | 'docker';
}

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

/**
 * The cgroup mount that goes with a proc root: /proc -> /sys/fs/cgroup, /host/proc -> /host/sys/fs/cgroup (the
 * usual way a containerised agent mounts the host's /proc and /sys side by side).
 */
export function defaultCgroupRoot(procRoot: string): string {
  return join(dirname(resolve(procRoot)), 'sys/fs/cgroup');
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
  return {
    cpuSeconds: usageUsec / 1e6,
    memoryBytes: Math.max(0, usage - inactive),
    ioReadBytes: readBytes,
    ioWriteBytes: writeBytes,
  };
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
    firstText(
      blkDirs.flatMap((d) => [
        join(d, 'blkio.throttle.io_service_bytes_recursive'),
        join(d, 'blkio.throttle.io_service_bytes'),
      ]),
    ),
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
    const isV2Root = await access(join(q.cgroupRoot, 'cgroup.controllers')).then(
      () => true,
      () => false,
    );
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

// The cgroup files' own formats (Documentation/admin-guide/cgroup-v1/ and cgroup-v2.rst), exported for their tests.

/** Where one process sits in each cgroup hierarchy, from `/proc/<pid>/cgroup`. */
export interface CgroupPaths {
  /** Path in the unified (v2) hierarchy: the `0::` line; null when absent. */
  readonly unified: string | null;
  /**
   * v1 controller -> [path, controllers as listed]. The listed string ("cpu,cpuacct") is also the usual name of the
   * directory the hierarchy is mounted on, with one symlink per controller beside it.
   */
  readonly v1: ReadonlyMap<string, { readonly path: string; readonly mount: string }>;
}

export function parseCgroupPaths(text: string): CgroupPaths {
  let unified: string | null = null;
  const v1 = new Map<string, { path: string; mount: string }>();
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = first < 0 ? -1 : line.indexOf(':', first + 1);
    if (second < 0) continue;
    const hierarchy = line.slice(0, first);
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1).trim();
    if (hierarchy === '0' && controllers === '') {
      unified = path;
      continue;
    }
    for (const controller of controllers.split(',')) {
      if (controller !== '') v1.set(controller, { path, mount: controllers });
    }
  }
  return { unified, v1 };
}

/** A single number file such as `memory.current` or `cpuacct.usage`. */
export function parseSingleValue(text: string): number {
  const value = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(value))
    throw new Error(`not a number: ${JSON.stringify(text.slice(0, 40))}`);
  return value;
}

/** Flat keyed files (cgroup-v2.rst; v1 memory.stat too): `cpu.stat`, `memory.stat` ("key value" per line). */
export function parseFlatKeyed(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [key, value, extra] = line.trim().split(/\s+/);
    if (!key || value === undefined || extra !== undefined) continue;
    const n = Number(value);
    if (Number.isFinite(n)) out.set(key, n);
  }
  return out;
}

/** v2 `io.stat` (nested keyed, cgroup-v2.rst): "8:0 rbytes=1 wbytes=2 rios=3 ..." per device; summed over devices. */
export function parseIoStat(text: string): { readBytes: number; writeBytes: number } {
  let readBytes = 0;
  let writeBytes = 0;
  for (const line of text.split('\n')) {
    for (const field of line.trim().split(/\s+/).slice(1)) {
      const [key, value] = field.split('=');
      const n = Number(value);
      if (!Number.isFinite(n)) continue;
      if (key === 'rbytes') readBytes += n;
      else if (key === 'wbytes') writeBytes += n;
    }
  }
  return { readBytes, writeBytes };
}

/** v1 `blkio.throttle.io_service_bytes[_recursive]` (cgroup-v1/blkio-controller.rst): "8:0 Read 4096" per device and op; the "Total" lines are skipped. */
export function parseBlkioServiceBytes(text: string): { readBytes: number; writeBytes: number } {
  let readBytes = 0;
  let writeBytes = 0;
  for (const line of text.split('\n')) {
    const [device, op, value] = line.trim().split(/\s+/);
    // A lone "Total N" line closes the file; only per-device lines count.
    if (!device || !device.includes(':') || value === undefined) continue;
    const n = Number(value);
    if (!Number.isFinite(n)) continue;
    if (op === 'Read') readBytes += n;
    else if (op === 'Write') writeBytes += n;
  }
  return { readBytes, writeBytes };
}
