import type { TargetObservation } from '../../shared/diagnosis/target-observation.js';
import type { ActionName } from '../actions/action.js';
import { RESTART_FAMILY } from '../policy/ladder-families.js';
import { verifyLoadDeadlineMs } from '../verify/judge-recovery.js';

/** The verification (and reload) deadline for `model`, fitted to its measured load time on this target. */
export function fittedDeadlineMs(
  observation: TargetObservation | undefined,
  model: string | undefined,
  defaultMs: number,
): number {
  const measured = observation?.configured.find((c) => c.model === model)?.loadSeconds;
  return verifyLoadDeadlineMs(measured, defaultMs);
}

/**
 * Why `model` must not be reloaded now: its runner (matched by PID) is making progress, i.e. serving requests.
 * Ollama would unload it only once they finish (server/sched.go), under users' feet; null when it is not seen busy.
 */
export function runnerBusy(observation: TargetObservation | undefined, model: string | undefined): string | null {
  const pid = observation?.loaded.find((m) => m.model === model)?.runnerPid;
  if (pid === null || pid === undefined) return null;
  const runner = observation?.runners?.find((r) => r.pid === pid);
  if (runner?.progress !== 'progressing') return null;
  return `the runner of ${model} (pid ${pid}) is busy (its CPU, memory or GPU use is progressing): a reload would unload it under its users; deferred`;
}

/** The first restart step after `i`, or -1: where a stuck server is cured. */
export function nextRestartStep(ladder: readonly ActionName[], i: number): number {
  return ladder.findIndex((step, j) => j > i && RESTART_FAMILY.includes(step));
}
