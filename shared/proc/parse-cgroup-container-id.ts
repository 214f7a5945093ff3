/** A full container id as Docker, containerd and CRI-O write it into cgroup paths. */
const ID = '[0-9a-f]{64}';
const BARE_ID = new RegExp(`^${ID}$`);
/**
 * systemd-driver scopes: `docker-<id>.scope` (Docker), `cri-containerd-<id>.scope` (containerd CRI),
 * `crio-<id>.scope` (CRI-O), `libpod-<id>.scope` (Podman). The prefix list is closed on purpose: any other unit
 * name that happens to hold 64 hex characters is not a container we know how to name.
 */
const SCOPE_ID = new RegExp(`^(?:docker|cri-containerd|crio|libpod|containerd)-(${ID})\\.scope$`);

/** The container id one path segment carries, if any. */
function segmentId(segment: string): string | null {
  if (BARE_ID.test(segment)) return segment;
  return SCOPE_ID.exec(segment)?.[1] ?? null;
}

/** Innermost container id of one cgroup path: docker-in-docker nests `/docker/<outer>/docker/<inner>`. */
export function parseCgroupPathContainerId(path: string): string | null {
  const segments = path.split('/');
  for (let i = segments.length - 1; i >= 0; i--) {
    const id = segmentId(segments[i]!);
    if (id) return id;
  }
  return null;
}

/**
 * Container id from the text of `/proc/<pid>/cgroup`, for cgroup v1 (`12:memory:/docker/<id>`), v2
 * (`0::/system.slice/docker-<id>.scope`) and hybrid hosts, cgroupfs or systemd driver, nested or kubepods-style
 * paths. Null when the process is in no container (host services, user sessions) or when the path is hidden by a
 * private cgroup namespace (`0::/`).
 *
 * Lines are `hierarchy-id:controllers:path`; the path may itself contain ':' so only the first two are split off.
 * On v1 every controller line names the same container, but some (e.g. a `name=systemd` line managed by an init
 * inside the container) can be shorter, so the deepest answer across lines wins.
 */
export function parseCgroupContainerId(text: string): string | null {
  let best: { id: string; depth: number } | null = null;
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = first < 0 ? -1 : line.indexOf(':', first + 1);
    if (second < 0) continue;
    const path = line.slice(second + 1).trim();
    const id = parseCgroupPathContainerId(path);
    if (!id) continue;
    const depth = path.lastIndexOf(id);
    if (!best || depth > best.depth) best = { id, depth };
  }
  return best?.id ?? null;
}

/** Which runtime a cgroup path says a process belongs to; see classifyCgroup. */
export type ContainerRuntime = 'docker' | 'containerd' | 'crio' | 'podman' | 'lxc' | 'nspawn' | 'kubernetes' | 'other';

/**
 * Path segments that only a container runtime (or a machine manager) creates. The list is closed and matched per
 * segment, so a host unit whose name merely contains a word (`dockerd-watch.service`) is not caught, while every
 * layout named in classifyCgroup is.
 */
const MARKERS: ReadonlyArray<readonly [RegExp, ContainerRuntime]> = [
  [/^docker(?:$|[-.])/, 'docker'],
  [/^(?:cri-)?containerd(?:$|[-.])/, 'containerd'],
  [/^(?:crio|cri-o)(?:$|[-.])/, 'crio'],
  [/^(?:libpod|podman|conmon)(?:$|[-._])/, 'podman'],
  [/^(?:lxc|lxd)(?:$|[-.])/, 'lxc'],
  [/^(?:machine\.slice|machine-.+\.scope|systemd-nspawn@.+\.service)$/, 'nspawn'],
  [/^kubepods(?:$|[-.])/, 'kubernetes'],
  [/^(?:garden|buildkit|actions_job)(?:$|[-.])/, 'other'],
];

function segmentMarker(segment: string): ContainerRuntime | null {
  for (const [re, runtime] of MARKERS) if (re.test(segment)) return runtime;
  return null;
}

/** Where `/proc/<pid>/cgroup` puts a process: its innermost container id (if any) and the runtime that made it. */
export interface CgroupPlacement {
  /** As parseCgroupContainerId: the innermost full 64-hex id, or null when no segment carries one. */
  readonly containerId: string | null;
  /**
   * The runtime its path names; null ONLY when the text is readable and no line names any runtime, machine or
   * container id: a host process as far as cgroups can tell. A bare 64-hex segment under no other runtime's marker
   * is Docker's cgroupfs layout (`/docker/<id>`, or `/<--cgroup-parent>/<id>`).
   */
  readonly runtime: ContainerRuntime | null;
}

/**
 * Classifies a process by every line of its cgroup file: Docker (`/docker/<id>`, `docker-<id>.scope`, a bare id
 * under a custom --cgroup-parent, `docker.service`), containerd (`cri-containerd-<id>.scope`, `containerd.service`),
 * CRI-O, Podman (`libpod-<id>.scope`, `/libpod_parent/...`, conmon), LXC/LXD (`/lxc/<name>`,
 * `/lxc.payload.<name>`), systemd-nspawn and other machined guests (`/machine.slice/...`), Kubernetes
 * (`kubepods...`). Paths outside our cgroup namespace start with `/..`; their visible segments are still read.
 * Text with no parsable line gives runtime 'other' (unknown is never "host").
 */
export function classifyCgroup(text: string): CgroupPlacement {
  const containerId = parseCgroupContainerId(text);
  let lines = 0;
  let marker: ContainerRuntime | null = null;
  let idRuntime: ContainerRuntime | null = null;
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = first < 0 ? -1 : line.indexOf(':', first + 1);
    if (second < 0) continue;
    lines++;
    const segments = line
      .slice(second + 1)
      .trim()
      .split('/');
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i]!;
      const m = segmentMarker(segment);
      if (m !== null) marker ??= m;
      if (containerId !== null && segmentId(segment) === containerId) {
        // The id's own unit name says who made it; a bare id belongs to the closest marker above it, else Docker.
        const own = BARE_ID.test(segment) ? null : segmentMarker(segment);
        const above = segments
          .slice(0, i)
          .map(segmentMarker)
          .filter((r) => r !== null && r !== 'docker');
        idRuntime ??= own ?? above[above.length - 1] ?? 'docker';
      }
    }
  }
  if (lines === 0) return { containerId, runtime: 'other' };
  if (containerId !== null) return { containerId, runtime: idRuntime ?? 'other' };
  return { containerId, runtime: marker };
}

/**
 * Did Docker make this cgroup for container `id`? Only then can "this Docker Engine does not know the id" mean "the
 * container is gone": Podman, containerd or CRI-O ids are unknown to Docker while their containers run.
 */
export function isDockerCgroup(placement: CgroupPlacement, id: string): boolean {
  return placement.containerId === id && placement.runtime === 'docker';
}
