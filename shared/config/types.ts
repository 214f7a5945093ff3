import type { OllamaEndpoint } from '../ollama/ollama-transport.js';

/**
 * The validated, frozen configuration. Keys keep their YAML spelling (snake_case) so a value in the file, its
 * environment variable and its flag are the same name; durations are normalised to milliseconds (`*_ms` is never
 * written by users: they write "15s", "2m" or seconds as a number).
 */

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/** How to find the container(s) that run an Ollama target. Exactly one kind per target. */
export type ContainerSelector =
  | { readonly kind: 'compose'; readonly project: string; readonly service: string }
  | { readonly kind: 'swarm'; readonly service: string; readonly stack?: string; readonly stack_file?: string }
  | { readonly kind: 'container'; readonly name: string };

/** One entry of `ollama:`: where the server is (name, url, headers, ca_file) and, optionally, its container(s). */
export interface OllamaTargetConfig extends OllamaEndpoint {
  readonly container?: ContainerSelector;
  /**
   * `load_stall_timeout`: a model load with no progress at all (runner CPU time, RSS, reads, VRAM flat) for this long
   * is stalled (load_stalled). Set by the config loader (default 5m); absent only in configs built by hand.
   */
  readonly load_stall_timeout_ms?: number;
}

export interface ModelConfig {
  /** Normalised ("llama3" becomes "llama3:latest"). */
  readonly name: string;
  /** Sent verbatim as the request's keep_alive: a Go duration string ("10m", "-1m") or seconds (-1 = forever). */
  readonly keep_alive: string | number;
  /** Probe (exporter), warm-up (remediator) and verification keep it loaded on purpose. */
  readonly keep_warm: boolean;
  /** Fraction of the model's memory that must sit in VRAM to count as healthy (some models never fit entirely). */
  readonly min_vram_ratio: number;
  /** Runner options (num_ctx, num_batch, num_gpu...). Every component sends exactly these: a difference reloads. */
  readonly options: Readonly<Record<string, unknown>>;
  /** Target names this model belongs on; empty = every target. */
  readonly targets: readonly string[];
  /** Build from a Modelfile-style create request instead of pulling (init). */
  readonly create?: Readonly<{ from: string } & Record<string, unknown>>;
}

export type GpuBackend = 'auto' | 'nvml' | 'nvidia_smi';

export interface GpuConfig {
  /** Set by the config loader (default auto); absent only in configs built by hand, which then mean nvidia_smi. */
  readonly backend?: GpuBackend;
  /** NVML library name or path (default libnvidia-ml.so.1). */
  readonly nvml_library?: string;
  /** Command (path) of nvidia-smi; may be a wrapper. */
  readonly nvidia_smi: string;
  readonly interval_ms: number;
  readonly timeout_ms: number;
  /** Publish one series per GPU compute process. */
  readonly processes: boolean;
  readonly max_processes_per_gpu: number;
  /** Host /proc as seen by this process (e.g. /host/proc when mounted into a container). */
  readonly proc_root: string;
}

export interface DockerConfig {
  /** Docker Engine endpoint: unix:///var/run/docker.sock, or tcp://127.0.0.1:2375. */
  readonly host: string;
  readonly timeout_ms: number;
}

export interface SharedConfig {
  readonly log: { readonly level: LogLevel; readonly format: 'json' | 'logfmt' };
  readonly gpu: GpuConfig;
  readonly docker: DockerConfig;
  readonly ollama: readonly OllamaTargetConfig[];
  readonly models: readonly ModelConfig[];
}
