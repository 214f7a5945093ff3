import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { parseCgroupContainerId } from '../../shared/proc/parse-cgroup-container-id.js';
import { parseNsPids } from '../../shared/proc/read-process-identity.js';
import type { SelfIdentity } from '../actions/action.js';
import type { SelfConfig } from '../remediator-section.js';

/**
 * Who the remediator is, so actions never hit it: its container id (from its own cgroup, else by inspecting the
 * configured self.container), its PID as `procRoot` numbers it (scanning for the process whose innermost NSpid is
 * ours and whose container is ours), and the configured Swarm service and stack.
 */
export async function resolveSelfIdentity(
  procRoot: string,
  self: SelfConfig,
  docker: Pick<Dockerode, 'getContainer'>,
  signal: AbortSignal,
): Promise<SelfIdentity> {
  let containerId = parseCgroupContainerId(await readFile('/proc/self/cgroup', 'utf8').catch(() => ''));
  if (containerId === null && self.container) {
    containerId = await docker
      .getContainer(self.container)
      .inspect({ abortSignal: signal })
      .then(
        (c) => c.Id,
        () => null,
      );
  }
  let pid = process.pid;
  if (procRoot !== '/proc' && containerId !== null) pid = (await findHostPid(procRoot, containerId)) ?? pid;
  return {
    pid,
    containerId,
    ...(self.swarm_service ? { swarmService: self.swarm_service } : {}),
    ...(self.stack ? { stack: self.stack } : {}),
  };
}

async function findHostPid(procRoot: string, containerId: string): Promise<number | undefined> {
  const entries = await readdir(procRoot).catch(() => [] as string[]);
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const status = await readFile(join(procRoot, name, 'status'), 'utf8').catch(() => '');
    const ns = parseNsPids(status);
    if (ns.length < 2 || ns[ns.length - 1] !== process.pid) continue;
    const cgroup = await readFile(join(procRoot, name, 'cgroup'), 'utf8').catch(() => '');
    if (parseCgroupContainerId(cgroup) === containerId) return Number(name);
  }
  return undefined;
}
