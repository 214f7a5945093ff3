import type { PullProgress } from '../ollama/ollama-client.js';
import type { FetchStage } from './provision-error.js';

/** Hooks for progress output; every one is optional so the remediator can pass only a logger-backed subset. */
export interface ProvisionEvents {
  /** A pull or create attempt begins (also each retry). */
  readonly attemptStarted?: (e: { model: string; stage: FetchStage; attempt: number; maxAttempts: number }) => void;
  /** One NDJSON progress line of the running pull or create. */
  readonly progress?: (e: { model: string; stage: FetchStage; progress: PullProgress }) => void;
  /** An attempt failed; `retryInMs` is absent when no retry follows. */
  readonly attemptFailed?: (e: {
    model: string;
    stage: FetchStage;
    attempt: number;
    maxAttempts: number;
    error: Error;
    permanent: boolean;
    retryInMs?: number;
  }) => void;
}
