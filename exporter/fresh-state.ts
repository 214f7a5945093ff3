import { diagnoseTarget } from '../shared/diagnosis/diagnose-target.js';
import type { CollectorScheduler } from './collector-scheduler.js';
import type { ExporterState } from './exporter-state.js';

/** The sources of a fresh observation: everything that describes the target now. Never the probe (it loads models). */
export const FRESH_COLLECTORS: readonly string[] = ['ollama', 'gpu', 'gpu_processes', 'runners'];
/** How long a fresh answer may wait for its sources when the caller does not say (the remediator does). */
export const FRESH_WAIT_DEFAULT_MS = 10_000;
export const FRESH_WAIT_MAX_MS = 60_000;

export interface FreshStateDeps {
  readonly scheduler: Pick<CollectorScheduler, 'collectFresh'>;
  readonly targets: readonly string[];
  /** The state document built from the scheduler's snapshots, leaving out the named collectors' (unknown). */
  readonly state: (unknown: ReadonlySet<string>) => ExporterState;
  readonly now: () => number;
}

/**
 * GET /api/state?target=NAME&fresh=1: collects the target's sources now (started together, see collectFresh) and
 * answers the state document with that target's observation rebuilt from them; observedAtMs is the start of the
 * oldest of those samples. A source that fails, times out or is not back within `waitMs` is unknown in the answer.
 * Concurrent requests for one target share one collection. Resolves null for a target that is not configured.
 */
export function createFreshState(
  deps: FreshStateDeps,
): (target: string, waitMs?: number) => Promise<ExporterState | null> {
  const shared = new Map<string, Promise<ExporterState>>();
  return (target, waitMs = FRESH_WAIT_DEFAULT_MS) => {
    if (!deps.targets.includes(target)) return Promise.resolve(null);
    const running = shared.get(target);
    if (running) return running;
    const p = (async () => {
      const since = deps.now();
      const runs = await deps.scheduler.collectFresh(FRESH_COLLECTORS, since, waitMs);
      const doc = deps.state(new Set(runs.filter((r) => !r.ok).map((r) => r.name)));
      const starts = runs.flatMap((r) => (r.startedAtMs === null ? [] : [r.startedAtMs]));
      const entry = doc.targets[target]!;
      // Every part is from after `since` or unknown: the oldest sample bounds the observation's age.
      const observation = { ...entry.observation, observedAtMs: starts.length ? Math.min(...starts) : since };
      // Its sources were started together: a cross-source finding needs no second sample.
      const diagnosis = diagnoseTarget(observation, { sampledTogether: true });
      return { ...doc, targets: { ...doc.targets, [target]: { observation, diagnosis } } };
    })().finally(() => shared.delete(target));
    shared.set(target, p);
    return p;
  };
}
