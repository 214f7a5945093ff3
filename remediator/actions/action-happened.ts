import type { OllamaTargetConfig } from '../../shared/config/types.js';
import { readProcessIdentity } from '../../shared/proc/read-process-identity.js';
import type { ActionDeps, ActionName } from './action.js';
import { hasHostPidView } from './has-host-pid-view.js';
import { inspectTargetContainer } from './list-target-containers.js';
import type { KillCandidate } from './select-kill-candidates.js';
import { listStackServices } from './stack-services.js';
import { forceUpdateCounter, inspectService } from './swarm-service.js';
import { sameProcess } from './terminate-process.js';
import { boundedSignal } from './wait-until.js';

type Json = Record<string, unknown>;

/**
 * After a crash mid-step: compares the `before` evidence persisted with the intent against Docker's / the kernel's /
 * Ollama's state now. true = the step took effect, false = it did not (or not completely: redo it), null = cannot
 * tell (evidence missing or malformed, the object is gone, or the state cannot show it). Never throws: a failing
 * lookup is null.
 */
export async function actionHappened(
  action: ActionName,
  before: Record<string, unknown>,
  target: OllamaTargetConfig,
  deps: ActionDeps,
  signal: AbortSignal = new AbortController().signal,
): Promise<boolean | null> {
  try {
    switch (action) {
      case 'warm_up':
      case 'reload':
        return await modelLoaded(action, before, target, deps, signal);
      case 'pull_model': {
        const model = str(before.model);
        if (model === undefined) return null;
        return (await deps.ollama(target).show(model, { signal })) !== null;
      }
      case 'kill_runner':
      case 'kill_orphans':
        return await processesGone(before, deps);
      case 'restart_container':
        return await containersRestarted(before, deps, signal);
      case 'recreate_container':
        return Array.isArray(before.containers)
          ? await containersRestarted(before, deps, signal)
          : await serviceForced(before, deps, signal);
      case 'force_update_service':
        return await serviceForced(before, deps, signal);
      case 'redeploy_stack':
        return await stackRedeployed(before, deps, signal);
    }
  } catch (err) {
    deps.log.warn({ action, err: err instanceof Error ? err.message : String(err) }, 'actionHappened: cannot tell');
    return null;
  }
}

/** warm_up: loaded now = done. reload: not loaded now = certainly not finished; loaded = cannot tell (it was before). */
async function modelLoaded(
  action: 'warm_up' | 'reload',
  before: Json,
  target: OllamaTargetConfig,
  deps: ActionDeps,
  signal: AbortSignal,
): Promise<boolean | null> {
  const model = str(before.model);
  if (model === undefined) return null;
  const loaded = (await deps.ollama(target).ps({ signal })).some((m) => m.name === model || m.model === model);
  if (action === 'warm_up') return loaded;
  return loaded ? null : false;
}

/** Every recorded PID gone or now a different process (start time, exe, argv). Any still the same: not done. */
async function processesGone(before: Json, deps: ActionDeps): Promise<boolean | null> {
  const pids = Array.isArray(before.pids) ? (before.pids as unknown[]) : undefined;
  if (!pids || pids.length === 0) return null;
  const chosen: KillCandidate[] = [];
  for (const p of pids) {
    const o = p as Json;
    const pid = num(o?.pid);
    const startTime = num(o?.startTime);
    if (pid === undefined || startTime === undefined || !Array.isArray(o.argv)) return null;
    chosen.push({
      pid,
      startTime,
      exe: typeof o.exe === 'string' ? o.exe : null,
      argv: (o.argv as unknown[]).map(String),
      containerId: typeof o.containerId === 'string' ? o.containerId : null,
      gpuUuid: str(o.gpuUuid) ?? '',
      usedMemoryBytes: undefined,
      why: '',
    });
  }
  if (!(await hasHostPidView(deps.procRoot)).ok) return null;
  for (const c of chosen) {
    if (sameProcess(c, await readProcessIdentity(deps.procRoot, c.pid))) return false;
  }
  return true;
}

/** Every recorded container started again since (StartedAt changed) and running. A vanished one: cannot tell. */
async function containersRestarted(before: Json, deps: ActionDeps, signal: AbortSignal): Promise<boolean | null> {
  const list = Array.isArray(before.containers) ? (before.containers as Json[]) : undefined;
  if (!list || list.length === 0) return null;
  let all = true;
  for (const c of list) {
    const id = str(c?.id);
    const startedAt = str(c?.startedAt);
    if (id === undefined || startedAt === undefined) return null;
    const now = await inspectTargetContainer(deps.docker, id, boundedSignal(signal, deps.timeouts.dockerMs));
    if (now === null) return null;
    if (now.startedAt === startedAt) all = false;
  }
  return all;
}

/** ForceUpdate moved past the recorded counter. */
async function serviceForced(before: Json, deps: ActionDeps, signal: AbortSignal): Promise<boolean | null> {
  const id = str(before.serviceId) ?? str(before.service);
  const from = num(before.forceUpdate);
  if (id === undefined || from === undefined) return null;
  const info = await inspectService(deps.docker, id, boundedSignal(signal, deps.timeouts.dockerMs));
  if (!info) return null;
  return forceUpdateCounter(info) > from;
}

/**
 * A deploy updates every service of the file, bumping its Version.Index even when nothing changed; a removal first
 * gives the services new ids. A stack still (or again) without services after a removal: not finished.
 */
async function stackRedeployed(before: Json, deps: ActionDeps, signal: AbortSignal): Promise<boolean | null> {
  const stack = str(before.stack);
  const services = Array.isArray(before.services) ? (before.services as Json[]) : undefined;
  if (stack === undefined || !services) return null;
  const now = await listStackServices(deps.docker, stack, boundedSignal(signal, deps.timeouts.dockerMs));
  if (now.length === 0) return false;
  const old = new Map<string, number>();
  for (const s of services) {
    const id = str(s?.id);
    const version = num(s?.version);
    if (id === undefined || version === undefined) return null;
    old.set(id, version);
  }
  if (before.removeFirst === true) return now.every((s) => !old.has(s.id));
  if (old.size === 0) return true; // deployed from nothing, and it has services now
  const shared = now.filter((s) => old.has(s.id));
  if (shared.length === 0) return null; // someone else replaced the stack
  return shared.some((s) => s.version > old.get(s.id)!);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}
