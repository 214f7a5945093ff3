import type { EnsureModelResult, FetchStage } from '../provision/ensure-model.js';
import type { VerifyModelResult } from '../provision/verify-model.js';

/**
 * Exit codes of `init`, distinct so a Compose `service_completed_successfully` dependency, a Swarm entrypoint or a
 * person can tell why it stopped. 1 and 2 are the CLI's own (unexpected failure or interruption; bad usage/config).
 * When several things fail, the lowest of these codes is returned (the earliest step that failed).
 */
export const INIT_EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  /** Ollama's API did not answer before init.wait_timeout. */
  UNREACHABLE: 3,
  /** A pull or create failed (permanent error, or retries used up). */
  FETCH_FAILED: 4,
  /** A model did not load mostly onto the GPU, or did not answer one token. */
  VERIFY_FAILED: 5,
  /** --check: a model was still missing (or not verified) at the deadline. */
  CHECK_UNSATISFIED: 6,
} as const;

export type InitExitCode = (typeof INIT_EXIT)[keyof typeof INIT_EXIT];

export type FetchOutcome =
  | { readonly ok: true; readonly result: EnsureModelResult }
  | {
      readonly ok: false;
      readonly stage: FetchStage;
      readonly problem: string;
      readonly permanent: boolean;
      readonly attempts: number;
      readonly durationMs: number;
    };

/** What init did for one model on one target; absent parts did not run. */
export interface ModelOutcome {
  readonly model: string;
  readonly fetch?: FetchOutcome;
  readonly verify?: VerifyModelResult;
  /** --check: whether the model was present (and, with --verify, verified) by the deadline, and what was missing. */
  readonly check?: { readonly ok: boolean; readonly problem?: string; readonly durationMs: number };
}

export interface TargetOutcome {
  readonly target: string;
  readonly url: string;
  readonly wait: {
    readonly ok: boolean;
    readonly version?: string;
    readonly attempts: number;
    readonly waitedMs: number;
    readonly problem?: string;
  };
  readonly models: readonly ModelOutcome[];
}

/** The exit code for a finished run: the lowest code among the failures (the earliest step that went wrong). */
export function initExitCode(targets: readonly TargetOutcome[]): number {
  const codes: number[] = [];
  for (const t of targets) {
    if (!t.wait.ok) codes.push(INIT_EXIT.UNREACHABLE);
    for (const m of t.models) {
      if (m.fetch && !m.fetch.ok) codes.push(INIT_EXIT.FETCH_FAILED);
      if (m.verify && !m.verify.ok) codes.push(INIT_EXIT.VERIFY_FAILED);
      if (m.check && !m.check.ok) codes.push(INIT_EXIT.CHECK_UNSATISFIED);
    }
  }
  return codes.length === 0 ? INIT_EXIT.OK : Math.min(...codes);
}
