import type { SwarmServiceInfo, SwarmTask } from './swarm-service.js';

export type Convergence =
  | { readonly state: 'converged'; readonly taskIds: string[] }
  | { readonly state: 'pending'; readonly why: string }
  | { readonly state: 'failed'; readonly why: string };

const FAILED_UPDATE = new Set(['paused', 'rollback_started', 'rollback_paused', 'rollback_completed']);

/**
 * Pure: has a force update (or a redeploy) to `forceUpdate` converged? Every task Swarm wants running carries the
 * new counter and runs, there are as many as the service's replicas (at least one for a global service), and the
 * rolling update (if any) completed. A paused or rolled-back update is a failure, not something to wait out.
 * `forceUpdate` undefined = any counter (after a stack deploy). A newer force update (another remediator's, an
 * operator's) supersedes the one waited for: its tasks restart anyway, so convergence is judged on the newer counter
 * (waiting for the old one would wait out the whole converge timeout, as seen on the test fleet).
 */
export function serviceConverged(
  info: SwarmServiceInfo,
  tasks: readonly SwarmTask[],
  forceUpdate?: number,
): Convergence {
  const update = info.UpdateStatus?.State;
  if (update !== undefined && FAILED_UPDATE.has(update)) {
    return {
      state: 'failed',
      why: `update ${update}${info.UpdateStatus?.Message ? `: ${info.UpdateStatus.Message}` : ''}`,
    };
  }
  const want = info.Spec.Mode?.Replicated ? (info.Spec.Mode.Replicated.Replicas ?? 1) : 1;
  const counter =
    forceUpdate === undefined ? undefined : Math.max(forceUpdate, info.Spec.TaskTemplate.ForceUpdate ?? 0);
  const current = tasks.filter((t) => counter === undefined || (t.Spec?.ForceUpdate ?? 0) === counter);
  const stale = tasks.length - current.length;
  const running = current.filter((t) => t.Status?.State === 'running');
  if (stale > 0) return { state: 'pending', why: `${stale} task(s) still on the old ForceUpdate` };
  if (running.length < want) {
    const states = current.map((t) => t.Status?.State ?? '?').join(',') || 'none';
    const errs = current
      .map((t) => t.Status?.Err)
      .filter(Boolean)
      .join('; ');
    return {
      state: 'pending',
      why: `${running.length}/${want} task(s) running (states: ${states})${errs ? `; ${errs}` : ''}`,
    };
  }
  if (update === 'updating') return { state: 'pending', why: 'update still running' };
  return { state: 'converged', taskIds: running.map((t) => t.ID).sort() };
}
