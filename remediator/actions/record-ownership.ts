import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { OllamaTargetConfig } from '../../shared/config/types.js';
import { isDockerNotFound, type DockerApi } from '../../shared/docker/docker-api.js';
import { resolveTargetContainers } from '../../shared/docker/resolve-target-containers.js';
import type { Logger } from '../../shared/log/create-logger.js';
import { classifyProcessRole } from '../../shared/proc/classify-process-role.js';
import { parseCmdline, readProcessIdentity, type ProcessIdentity } from '../../shared/proc/read-process-identity.js';
import type { ActionDeps, OwnershipHistory } from './action.js';
import { errorText } from './call-log.js';

type RecordDeps = { readonly history?: OwnershipHistory; readonly log: Logger };

/**
 * Records containers just listed as the target's in the ownership history. Never fails the caller: a history that
 * could not be written only means an orphan of these containers is escalated later instead of killed.
 */
export async function recordTargetContainers(deps: RecordDeps, target: string, ids: readonly string[]): Promise<void> {
  if (!deps.history || ids.length === 0) return;
  await deps.history
    .seenContainers(target, ids)
    .catch((err: unknown) => deps.log.warn({ target, err: errorText(err) }, 'cannot record the target containers'));
}

/**
 * A host target's `ollama serve` goes into the history only when it is provably the target's: it is the one host
 * server running, and the target is the one configured host target. Its start time only means something within
 * one boot, so the boot id goes with it (none readable: nothing recorded).
 */
export async function recordHostServer(
  deps: RecordDeps & Pick<ActionDeps, 'procRoot'>,
  target: string,
  servers: readonly ProcessIdentity[],
): Promise<void> {
  const history = deps.history;
  if (!history || servers.length !== 1 || history.hostTargets.length !== 1 || history.hostTargets[0] !== target) return;
  const bootId = await readBootId(deps.procRoot);
  if (bootId === null) return;
  await history
    .seenHostServer(target, { pid: servers[0]!.pid, startTime: servers[0]!.startTime, bootId })
    .catch((err: unknown) => deps.log.warn({ target, err: errorText(err) }, 'cannot record the host server'));
}

/** The kernel's id of this boot, as `procRoot` shows it; null when unreadable. */
export async function readBootId(procRoot: string): Promise<string | null> {
  const text = await readFile(join(procRoot, 'sys', 'kernel', 'random', 'boot_id'), 'utf8').catch(() => '');
  return text.trim() || null;
}

/**
 * Every `ollama serve` provably on the host (not in any container, LXC or machine; see ProcessIdentity.onHost), by
 * PID. cmdline is read first so only candidates cost a full identity read.
 */
export async function findHostOllamaServers(procRoot: string): Promise<ProcessIdentity[]> {
  const found: ProcessIdentity[] = [];
  for (const entry of await readdir(procRoot)) {
    if (!/^[1-9]\d*$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = parseCmdline(await readFile(join(procRoot, entry, 'cmdline')));
    } catch {
      continue; // exited while we listed
    }
    if (classifyProcessRole(argv, null) !== 'ollama_server') continue;
    const identity = await readProcessIdentity(procRoot, Number(entry)).catch(() => null);
    if (identity && identity.onHost && classifyProcessRole(identity.argv, identity.exe) === 'ollama_server') {
      found.push(identity);
    }
  }
  return found.sort((a, b) => a.pid - b.pid);
}

/** Start-up: what each target owns now goes into the history (errors are logged; Docker may be down). */
export async function recordCurrentOwnership(
  targets: readonly OllamaTargetConfig[],
  deps: Pick<ActionDeps, 'docker' | 'log' | 'history' | 'procRoot' | 'timeouts'>,
): Promise<void> {
  for (const target of targets) {
    try {
      if (target.container) {
        const containers = await resolveTargetContainers(
          deps.docker as unknown as DockerApi,
          target.container,
          AbortSignal.timeout(deps.timeouts.dockerMs),
        );
        await recordTargetContainers(
          deps,
          target.name,
          containers.map((c) => c.id),
        );
      } else {
        await recordHostServer(deps, target.name, await findHostOllamaServers(deps.procRoot));
      }
    } catch (err) {
      deps.log.warn({ target: target.name, err: errorText(err) }, 'start-up: cannot record what the target owns');
    }
  }
}

/** Does Docker know this container? false only on its 404; null when it could not tell. */
export async function dockerKnowsContainer(
  docker: DockerApi,
  id: string,
  signal: AbortSignal,
): Promise<boolean | null> {
  try {
    await docker.getContainer(id).inspect({ abortSignal: signal });
    return true;
  } catch (err) {
    return isDockerNotFound(err) ? false : null;
  }
}
