/**
 * Everything known about one Ollama target at one moment, normalised from the exporter's snapshots (or from the
 * remediator's own direct checks). `null` means "not known" (source failing or not collected), never "zero".
 */
export interface TargetObservation {
  readonly target: string;
  /**
   * When the oldest source in this observation was sampled (ms since the epoch): the observation is no older than
   * this. Null when nothing was sampled yet.
   */
  readonly observedAtMs: number | null;
  /** /api/version (null: unknown); the behaviour it implies is judged by this version, at each collection. */
  readonly version: string | null;
  /** HEAD / answered. */
  readonly apiUp: boolean | null;
  /** /api/ps answered. */
  readonly psOk: boolean | null;
  /** Why /api/ps failed ("timeout", "http_500", "refused", ...); null when it answered or is unknown. */
  readonly psFailure: string | null;
  readonly loaded: readonly LoadedModelObservation[];
  /** Configured models for this target and whether /api/tags lists them (null: tags unknown). */
  readonly configured: readonly ConfiguredModelObservation[];
  readonly probes: readonly ProbeObservation[];
  /** VRAM held by this target's processes according to the GPU (null: attribution unavailable). */
  readonly gpuMemoryBytes: number | null;
  /** Ollama runner processes on the GPU that belong to no live server of this target. */
  readonly orphanRunners: readonly { readonly pid: number; readonly memoryBytes: number }[] | null;
  /**
   * The target's model runner processes as /proc shows them (CPU-only ones included), with what their counters did
   * over recent samples. Null: not visible (no container selector, no host PID view, source failing).
   */
  readonly runners: readonly RunnerObservation[] | null;
  /** PIDs of the target's GPU discovery processes now running (never runners, never killed); null: not visible. */
  readonly discoveryPids: readonly number[] | null;
  /** A load that makes no progress at all for this long is stalled (the target's load-stall limit). */
  readonly loadStallLimitSeconds: number;
  /** Host-level GPU health (null: GPU collector failing or off). */
  readonly gpus: readonly GpuObservation[] | null;
  /** Why the GPU collector fails, when it does (e.g. "version_mismatch"). */
  readonly gpuCollectorError: string | null;
  /** `nvidia-smi -L` inside the target's container: false when it fails ("Failed to initialize NVML"). */
  readonly containerGpuAccess: boolean | null;
}

export interface LoadedModelObservation {
  readonly model: string;
  readonly sizeBytes: number;
  readonly vramBytes: number;
  /** expires_at in the past while still listed (a busy model shows this too: Ollama resets it when idle). */
  readonly stopping: boolean;
  /** Seconds until expires_at (negative: past); null when absent or unparsable. */
  readonly expiresInSeconds: number | null;
  /**
   * expires_at moved with the clock since the previous /api/ps read: Ollama has not set this runner's expiry, so it is
   * still loading (0.12 lists loading runners) or on its first request. Null or absent: not known.
   */
  readonly expiryUnset?: boolean | null;
  /** The PID of the runner serving it, when it could be matched (via /api/show's blob and the runner's --model). */
  readonly runnerPid: number | null;
}

export interface ConfiguredModelObservation {
  readonly model: string;
  readonly present: boolean | null;
  readonly minVramRatio: number;
  readonly keepWarm: boolean;
  /** Configured to run on the CPU (options.num_gpu 0, or min_vram_ratio 0): healthy with nothing in VRAM. */
  readonly cpuByDesign: boolean;
  /** The longest recently measured cold load of this model on this target (seconds); null: never measured. */
  readonly loadSeconds: number | null;
}

export interface ProbeObservation {
  readonly model: string;
  /**
   * pending: the probe in flight has outlived its first-token deadline and not answered yet (not a failure).
   * skipped: not sent, because the model's runner was busy (the probe would take a user's slot): not a failure.
   */
  readonly result: 'ok' | 'loading' | 'busy' | 'timeout' | 'not_found' | 'error' | 'pending' | 'skipped';
  readonly consecutiveFailures: number;
  readonly message?: string;
  /**
   * Whether the model's runner made progress (CPU time or GPU activity) while the last timed-out or pending probe
   * waited: true = saturated, not hung; false = flat; null = not known (no runner visible).
   */
  readonly runnerBusyDuringWait?: boolean | null;
  /** Since when the model's runner has been seen busy without a probe getting through (ms); null when it has not. */
  readonly busySinceMs?: number | null;
  /** When a probe of this model last got its token (ms); null: never. A model that answered is loaded. */
  readonly lastSuccessMs?: number | null;
  /** Other keep_warm models the last probe's load of this one evicted. */
  readonly evicted?: readonly string[];
  /** After an out-of-memory, until when the probe does not load this model again (ms). */
  readonly heldUntilMs?: number | null;
  /** The keep_warm model whose load evicted this one: the probe does not reload this one while that is loaded. */
  readonly evictedBy?: string | null;
}

export interface RunnerObservation {
  readonly pid: number;
  /** `sha256-<hex>` of the --model blob path; null when argv has no --model path of that form. */
  readonly modelBlob: string | null;
  /** Parallel slots from argv (`--parallel N` / `-np N`); null when argv does not say. */
  readonly slots: number | null;
  /** VRAM the GPU attributes to it; null when unknown (0 = on the GPU list with nothing, or not on it at all). */
  readonly vramBytes: number | null;
  /** What CPU time, RSS, VRAM and read bytes did since the previous sample; unknown on the first sample. */
  readonly progress: 'progressing' | 'flat' | 'unknown';
  /** How long all of them have been flat (ms); 0 while progressing. */
  readonly flatForMs: number;
  /**
   * The last progress moved RSS, reads or VRAM (a load), not only CPU time (a loaded runner at work). Absent from
   * older exporters: unknown.
   */
  readonly memoryGrowing?: boolean;
  /** Process start (ms since the epoch); null when unknown. */
  readonly startedAtMs: number | null;
}

export interface GpuObservation {
  readonly uuid: string;
  readonly lost: boolean;
  readonly eccUncorrectedVolatile: number | null;
  readonly memoryUsedBytes: number | null;
}
