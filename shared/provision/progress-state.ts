/** One layer (blob) of a pull as Ollama reports it: `pulling <digest>` with total and completed bytes. */
export interface LayerProgress {
  readonly digest: string;
  readonly total: number;
  readonly completed: number;
}

/** Completed bytes at a moment, for the speed estimate. */
export interface ProgressSample {
  readonly atMs: number;
  readonly bytes: number;
}

/** Everything the progress renderer needs: a pure value, updated by applyProgress. */
export interface ProgressState {
  readonly model: string;
  readonly phase: 'pull' | 'create';
  /** Last status line from Ollama ("pulling manifest", "pulling 6e4c38e1172f", "verifying sha256 digest"...). */
  readonly status: string;
  readonly layers: readonly LayerProgress[];
  /** Recent samples only (a sliding window), so the speed follows the current rate, not the average. */
  readonly samples: readonly ProgressSample[];
  readonly startedAtMs: number;
  /** 1 for the first try; a retry starts a fresh state with the next number. */
  readonly attempt: number;
}

export function newProgressState(model: string, phase: 'pull' | 'create', nowMs: number, attempt = 1): ProgressState {
  return { model, phase, status: 'starting', layers: [], samples: [], startedAtMs: nowMs, attempt };
}
