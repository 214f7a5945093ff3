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
