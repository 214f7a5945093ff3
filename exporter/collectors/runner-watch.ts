import type { RunnerObservation } from '../../shared/diagnosis/target-observation.js';

/** The target's runner processes as the latest `runners` snapshot saw them, and when. */
export interface RunnersView {
  readonly atMs: number;
  readonly runners: readonly RunnerObservation[];
}

/**
 * The runners whose activity speaks for a model: its own (matched by the --model blob), or, when the model is
 * resident but its runner cannot be matched, every single-slot runner of the target (one of them is its). Null: no
 * runner is visible for it (no view, or a cold model: a probe would load it, not take a slot).
 */
export function runnersToWatch(
  view: RunnersView | null,
  blob: string | null,
  resident: boolean | null,
): readonly RunnerObservation[] | null {
  if (view === null) return null;
  const own = blob === null ? undefined : view.runners.find((r) => r.modelBlob === blob);
  if (own) return [own];
  if (resident !== true) return null;
  const single = view.runners.filter((r) => r.slots === null || r.slots <= 1);
  return single.length > 0 ? single : null;
}

/**
 * A runner with one slot (OLLAMA_NUM_PARALLEL's default; unknown slot counts are taken as one) that is busy would
 * give the probe's request the only slot after a user's, or keep the probe waiting behind users without limit
 * (sched.go useLoadedRunner: a resident model's request never gets 503): such a runner is not probed. With several
 * slots the probe takes a free one, so it still runs and stays the hang detector.
 */
export function busySingleSlot(watched: readonly RunnerObservation[] | null): boolean {
  return (watched ?? []).some((r) => r.progress === 'progressing' && (r.slots === null || r.slots <= 1));
}

/**
 * Whether the watched runners made progress while a probe waited, from runners snapshots taken after it started:
 * true as soon as one shows progress, false once a fresh snapshot saw them all flat, null before that or
 * when none is visible.
 */
export class WaitWatch {
  private seenFresh = false;
  private progressed = false;

  constructor(
    private readonly read: () => readonly RunnerObservation[] | null,
    private readonly viewAt: () => number | null,
    private readonly startedMs: number,
  ) {}

  sample(): void {
    const at = this.viewAt();
    if (at === null || at <= this.startedMs) return;
    const runners = this.read();
    if (runners === null || runners.length === 0) return;
    if (runners.some((r) => r.progress === 'progressing')) this.progressed = true;
    else if (runners.every((r) => r.progress === 'flat')) this.seenFresh = true;
  }

  get busy(): boolean | null {
    this.sample();
    if (this.progressed) return true;
    return this.seenFresh ? false : null;
  }
}
