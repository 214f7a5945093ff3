/**
 * Bounded set of conditions (they become a metric label and the remediator's routing key).
 * Order = precedence when several hold: host-level faults first, because acting on the container cannot fix them;
 * normal states (loading, busy) last, so any fault seen beside them wins.
 */
export const CONDITIONS = [
  'gpu_fault',
  'api_down',
  'gpu_access_lost',
  'load_stalled',
  'probe_hung',
  'runner_crashed',
  'model_on_cpu',
  'vram_mismatch',
  'model_missing',
  'orphan_vram',
  'model_stopping',
  'partial_offload',
  'out_of_memory',
  'keep_warm_evicted',
  'runner_busy_too_long',
  'server_busy',
  'probe_failing',
  'unknown',
  'model_loading',
  'runner_busy',
  'healthy',
] as const;
export type Condition = (typeof CONDITIONS)[number];

/** What to do about a condition: the remediator starts its ladder here; `escalate` means humans only. */
export type SuggestedAction = 'restart' | 'reload' | 'kill_orphans' | 'pull' | 'escalate' | 'wait' | 'none';

export interface Finding {
  readonly condition: Condition;
  readonly model?: string;
  readonly detail: string;
  readonly action: SuggestedAction;
}

export interface Diagnosis {
  readonly target: string;
  /** The most urgent condition (CONDITIONS order). */
  readonly status: Condition;
  readonly findings: readonly Finding[];
  /**
   * Findings that compare two sources sampled at different moments (/api/ps against the GPU or /proc), seen on this
   * observation only: they count (move into `findings`) when the next observation shows them again, or at once when
   * the sources were sampled together. Absent when there are none.
   */
  readonly unconfirmed?: readonly Finding[];
}

/** Probe failures in a row before a hung or failing runner is declared (one slow answer is not a hang). */
export const PROBE_FAILURES_NEEDED = 2;
/**
 * How long a runner may stay busy while probes cannot get through (skipped, or waiting behind users) before humans
 * are told: past this, busy and spinning forever cannot be told apart from outside, so the answer is escalate, never
 * an action. Also the wait before a "Stopping" model whose runner activity is not visible counts as stuck.
 */
export const RUNNER_BUSY_LIMIT_MS = 10 * 60_000;
/** A model past its expires_at this long with an idle runner failed to unload (the unload itself takes seconds). */
export const STOPPING_GRACE_SECONDS = 30;
/** GPU memory held may be below the VRAM /api/ps claims by this fraction before it is evidence of a lie. */
export const VRAM_EVIDENCE_FLOOR = 0.5;
