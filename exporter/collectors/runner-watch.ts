import type { RunnerObservation } from '../../shared/diagnosis/target-observation.js';
import { START_TIME_TOLERANCE_MS } from '../../shared/proc/read-process-counters.js';

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
  private endedMs: number | null = null;

  constructor(
    private readonly read: () => readonly RunnerObservation[] | null,
    private readonly viewAt: () => number | null,
    private readonly startedMs: number,
  ) {}

  /**
   * The probe's request is over. A snapshot taken after this no longer sees the wait itself: its runners count as
   * idle through the wait only if flat since before it began; flat since some point inside it means they worked in it.
   */
  end(atMs: number): void {
    this.endedMs ??= atMs;
  }

  sample(): void {
    const at = this.viewAt();
    if (at === null || at <= this.startedMs) return;
    const runners = this.read();
    if (runners === null || runners.length === 0) return;
    const late = this.endedMs !== null && at >= this.endedMs;
    if (runners.some((r) => r.progress === 'progressing')) this.progressed = true;
    else if (late && runners.some((r) => r.progress === 'flat' && at - r.flatForMs > this.startedMs))
      this.progressed = true;
    else if (runners.every((r) => r.progress === 'flat')) this.seenFresh = true;
  }

  get busy(): boolean | null {
    this.sample();
    if (this.progressed) return true;
    return this.seenFresh ? false : null;
  }
}

/** How often a wait for a runners snapshot newer than a probe's start looks again. */
const FRESH_POLL_MS = 200;

/**
 * The first runners snapshot taken after `afterMs`, waiting up to `limitMs` for one (the runners collector may be
 * late on a loaded host: a run skipped while the last one still scans /proc, or one that outlasts a short probe
 * deadline); null when none came in time, when the runners are not visible, or when `signal` aborts.
 */
export async function freshRunnersView(
  read: () => RunnersView | null,
  afterMs: number,
  limitMs: number,
  signal: AbortSignal,
): Promise<RunnersView | null> {
  const until = Date.now() + limitMs;
  for (;;) {
    const view = read();
    if (view === null) return null; // not visible (or the runners collector failing): nothing to wait for
    if (view.atMs > afterMs) return view;
    if (signal.aborted || Date.now() >= until) return null;
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.min(FRESH_POLL_MS, until - Date.now()))));
  }
}

// Two readings of one process's start may differ by START_TIME_TOLERANCE_MS, while a PID comes back only after the
// PID space wrapped. The exact identity (PID and start ticks) is the progress tracker's: a flat verdict since before
// the wait means the same process has been tracked since then.
/** A runner process: its PID and start time (a reused PID is another process). */
const sameProcess = (a: RunnerObservation, b: RunnerObservation): boolean =>
  a.pid === b.pid &&
  (a.startedAtMs === null || b.startedAtMs === null
    ? a.startedAtMs === b.startedAtMs
    : Math.abs(a.startedAtMs - b.startedAtMs) <= START_TIME_TOLERANCE_MS);

/**
 * Whether `late` (a snapshot taken after `sinceMs`) proves that the runners seen when the wait began (`pinned`) did
 * nothing through all of it: the very same processes, and none but them, every one flat since before `sinceMs`
 * (its last progress is older than the wait). A runner that was loading shows progress (CPU reading weights, RSS,
 * reads, VRAM) inside the wait; a new runner (a reload) is another process, and its first sample is `unknown`.
 */
function flatThroughout(
  late: readonly RunnerObservation[] | null,
  atMs: number,
  pinned: readonly RunnerObservation[] | null,
  sinceMs: number,
): boolean {
  if (late === null || pinned === null || late.length === 0 || late.length !== pinned.length) return false;
  return late.every(
    (r) => r.progress === 'flat' && atMs - r.flatForMs <= sinceMs && pinned.some((p) => sameProcess(p, r)),
  );
}

/**
 * Whether the model's runner(s) are seen done loading (idle, not working) while its probe waited, asked once the
 * probe's request is over. A snapshot taken during the wait that shows them all flat says so. Without one (a starved
 * runners collector: a run skipped while the last still scans /proc, or one outlasting a short deadline), the first
 * snapshot to come within `waitMs` must show the runner(s) of the start (`pinned`) flat since before the wait began:
 * the request is gone by then, so a runner that loaded and then went idle (progress inside the wait) does not pass.
 */
export async function settledDuringWait(
  view: () => RunnersView | null,
  own: (v: RunnersView) => readonly RunnerObservation[] | null,
  pinned: readonly RunnerObservation[] | null,
  startedMs: number,
  waitMs: number,
  signal: AbortSignal,
): Promise<boolean> {
  const now = view();
  if (now !== null && now.atMs > startedMs) {
    const runners = own(now);
    return runners !== null && runners.length > 0 && runners.every((r) => r.progress === 'flat');
  }
  const late = await freshRunnersView(view, startedMs, waitMs, signal);
  return late !== null && flatThroughout(own(late), late.atMs, pinned, startedMs);
}

/** The model's own runner (matched by its blob) in `view`, when exactly one is seen. */
export function ownRunner(view: RunnersView | null, blob: string | null): RunnerObservation | null {
  const own = view !== null && blob !== null ? view.runners.filter((r) => r.modelBlob === blob) : [];
  return own.length === 1 ? own[0]! : null;
}

/**
 * Whether a model stays proven resident after a probe that proved nothing (skipped, loading, error, ...), from a
 * snapshot taken after that probe ended: its runner is still the process seen after the last probe that got a token
 * (or hung after one), and that process has done nothing since before that probe began. A reload is another process;
 * a load in this one, or users it serves, would show progress (a busy runner keeps the load deadline, which lets the
 * probe wait behind them). The proven model's probe still gets the loading check (/api/ps twice, the runners), so a
 * reload this snapshot is too old to show is not called a hang.
 */
export function stillProven(
  view: RunnersView | null,
  blob: string | null,
  s: {
    readonly provenRunner: RunnerObservation | null;
    readonly last: { readonly result: string; readonly atMs: number } | null;
    readonly lastStartedMs: number | null;
  },
): boolean {
  const { last, provenRunner } = s;
  if (last === null || provenRunner === null || view === null || view.atMs <= last.atMs) return false;
  const r = ownRunner(view, blob);
  if (r === null || !sameProcess(r, provenRunner)) return false;
  return s.lastStartedMs !== null && r.progress === 'flat' && view.atMs - r.flatForMs <= s.lastStartedMs;
}

/**
 * Whether a cold load a probe waits on still makes progress: the model's own runner (by --model blob), else any runner
 * of the target started since the probe began (0.30+ does not list a loading runner, whose blob may not be known yet),
 * moved (CPU time, RSS, reads or VRAM) within the last `windowMs`, in a runners snapshot no older than that.
 */
export function loadMoves(
  view: RunnersView | null,
  blob: string | null,
  probeStartedMs: number,
  windowMs: number,
  nowMs: number,
): boolean {
  if (view === null || view.atMs < nowMs - windowMs) return false;
  const own = blob === null ? undefined : view.runners.find((r) => r.modelBlob === blob);
  const started = view.runners.filter(
    (r) => r.startedAtMs !== null && r.startedAtMs >= probeStartedMs - START_TIME_TOLERANCE_MS,
  );
  return (own ? [own] : started).some(
    (r) => r.progress === 'progressing' || (r.progress === 'flat' && r.flatForMs < windowMs),
  );
}
