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
