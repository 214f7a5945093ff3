import type { EnsureModelResult } from './ensure-model.js';
import type { FetchStage } from './provision-error.js';
import type { VerifyModelResult } from './verify-model.js';

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
