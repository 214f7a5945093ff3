/**
 * Everything known about one Ollama target at one moment, normalised from the exporter's snapshots (or from the
 * remediator's own direct checks). `null` means "not known" (source failing or not collected), never "zero".
 */
export interface TargetObservation {
  readonly target: string;
  /** HEAD / answered. */
  readonly apiUp: boolean | null;
  /** /api/ps answered. */
  readonly psOk: boolean | null;
  readonly loaded: readonly LoadedModelObservation[];
  /** Configured models for this target and whether /api/tags lists them (null: tags unknown). */
  readonly configured: readonly {
    readonly model: string;
    readonly present: boolean | null;
    readonly minVramRatio: number;
    readonly keepWarm: boolean;
  }[];
  readonly probes: readonly ProbeObservation[];
  /** VRAM held by this target's processes according to the GPU (null: attribution unavailable). */
  readonly gpuMemoryBytes: number | null;
  /** Ollama runner processes on the GPU that belong to no live server of this target. */
  readonly orphanRunners: readonly { readonly pid: number; readonly memoryBytes: number }[] | null;
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
  /** expires_at in the past while still listed: stuck "Stopping". */
  readonly stopping: boolean;
}

export interface ProbeObservation {
  readonly model: string;
  /** pending: the probe in flight has outlived its first-token deadline and not answered yet (not a failure). */
  readonly result: 'ok' | 'loading' | 'busy' | 'timeout' | 'not_found' | 'error' | 'pending';
  readonly consecutiveFailures: number;
  readonly message?: string;
}

export interface GpuObservation {
  readonly uuid: string;
  readonly lost: boolean;
  readonly eccUncorrectedVolatile: number | null;
  readonly memoryUsedBytes: number | null;
}
