import { dirname, join, resolve } from 'node:path';

/**
 * The cgroup mount that goes with a proc root: /proc -> /sys/fs/cgroup, /host/proc -> /host/sys/fs/cgroup (the
 * usual way a containerised agent mounts the host's /proc and /sys side by side).
 */
export function defaultCgroupRoot(procRoot: string): string {
  return join(dirname(resolve(procRoot)), 'sys/fs/cgroup');
}
