/** One reading of a runner's work counters. */
export interface RunnerSample {
  readonly atMs: number;
  readonly cpuSeconds: number;
  readonly rssBytes: number;
  /** rchar and read_bytes of /proc/<pid>/io; null when not readable. */
  readonly rchar: number | null;
  readonly readBytes: number | null;
  /** VRAM the driver attributes to the PID; null when unknown. */
  readonly vramBytes: number | null;
  /**
   * The PID's share of the GPU's SMs in NVML's latest process-utilization samples (0-1); null when not reported
   * (nvidia-smi has no per-process utilization). Optional: samples recorded before it existed have none.
   */
  readonly gpuSmRatio?: number | null;
}

/** What is remembered of one runner (one PID with one start time) between samples. */
export interface RunnerTrack {
  readonly startTime: number;
  /** The sample of the last progress (or the first sample): later samples are compared with it. */
  readonly baseline: RunnerSample;
  readonly progress: 'progressing' | 'flat' | 'unknown';
  /** The last progress grew memory (RSS, reads or VRAM), not only CPU time: loading, not computing. */
  readonly memoryGrowing: boolean;
}

const MiB = 1024 * 1024;

/**
 * What counts as work. Quiet runners are not perfectly still, so small movements are noise:
 * - CPU: an idle runner sleeps (v0.12.6 runner/ollamarunner/runner.go Server.run waits on s.cond; upstream
 *   llama-server's server_queue waits on its condition_tasks variable since llama.cpp#4673, tools/server/
 *   server-queue.h; the llama.cpp Ollama 0.33 builds is fetched at build time, not in its tree), but while it loads Ollama polls its /health every 250 ms (v0.12.6 llm/server.go and
 *   v0.33.0-rc2 llm/llama_server.go WaitUntilRunning), a few hundred microseconds of CPU a second, well under 1 % of
 *   a core. 2 % of one core over the window is clearly more than that; one clock tick (10 ms) is the resolution.
 * - RSS moves by page-cache and allocator noise of kilobytes; a load maps or copies weights by hundreds of MiB.
 * - rchar counts socket reads too (the /health polls: bytes); a load reads GiBs unless the blob is already cached,
 *   in which case RSS (the mapped file) or VRAM moves instead.
 * - VRAM: the driver reports MiB steps; any step is an allocation.
 */
export const PROGRESS_THRESHOLDS = {
  cpuCoreFraction: 0.02,
  rssBytes: MiB,
  readBytes: MiB,
  vramBytes: MiB,
  /** A runner using this share of the SMs is computing (NVML rounds to whole percents; an idle one reports none). */
  gpuSmRatio: 0.01,
  /** Below this window a CPU verdict is tick noise: a too-early sample keeps the previous verdict. */
  minWindowMs: 1000,
} as const;

export interface ProgressVerdict {
  readonly track: RunnerTrack;
  readonly progress: 'progressing' | 'flat' | 'unknown';
  /** ms since the baseline: how long every counter has stayed within the thresholds; 0 unless flat. */
  readonly flatForMs: number;
  /**
   * Whether the last progress moved RSS, reads or VRAM. A load maps, reads and allocates weights; a loaded runner
   * that generates only burns CPU (and GPU) time, so CPU-only progress is work, not a load.
   */
  readonly memoryGrowing: boolean;
}

const grew = (a: number | null, b: number | null, by: number) => a !== null && b !== null && b - a >= by;
const moved = (a: number | null, b: number | null, by: number) => a !== null && b !== null && Math.abs(b - a) >= by;

/**
 * Compares a runner's sample with the last one that showed progress (same PID AND start time; anything else starts
 * over as 'unknown'). The baseline stays put while the runner is flat, so slow but steady work (a slow disk reading
 * a little each interval) adds up and still counts; flatForMs is the time since the baseline.
 */
export function judgeRunnerProgress(
  prev: RunnerTrack | undefined,
  startTime: number,
  sample: RunnerSample,
): ProgressVerdict {
  if (!prev || prev.startTime !== startTime) {
    const track: RunnerTrack = { startTime, baseline: sample, progress: 'unknown', memoryGrowing: false };
    return { track, progress: 'unknown', flatForMs: 0, memoryGrowing: false };
  }
  const base = prev.baseline;
  const windowMs = sample.atMs - base.atMs;
  const t = PROGRESS_THRESHOLDS;
  const cpuNeeded = (t.cpuCoreFraction * Math.max(windowMs, t.minWindowMs)) / 1000;
  // Only growth is a load: memory given back (weights unmapped after upload, VRAM freed) is progress, not loading.
  const memoryGrowing =
    grew(base.rssBytes, sample.rssBytes, t.rssBytes) ||
    grew(base.rchar, sample.rchar, t.readBytes) ||
    grew(base.readBytes, sample.readBytes, t.readBytes) ||
    grew(base.vramBytes, sample.vramBytes, t.vramBytes);
  const progressed =
    memoryGrowing ||
    moved(base.rssBytes, sample.rssBytes, t.rssBytes) ||
    moved(base.vramBytes, sample.vramBytes, t.vramBytes) ||
    (sample.gpuSmRatio ?? 0) >= t.gpuSmRatio ||
    sample.cpuSeconds - base.cpuSeconds >= Math.max(cpuNeeded, 0.01);
  if (progressed) {
    const track: RunnerTrack = { startTime, baseline: sample, progress: 'progressing', memoryGrowing };
    return { track, progress: 'progressing', flatForMs: 0, memoryGrowing };
  }
  if (windowMs < t.minWindowMs) {
    // Too soon to call: the previous verdict stands (a fresh on-demand sample right after a scheduled one).
    const flatForMs = prev.progress === 'flat' ? windowMs : 0;
    return { track: prev, progress: prev.progress, flatForMs, memoryGrowing: prev.memoryGrowing };
  }
  return {
    track: { ...prev, progress: 'flat', memoryGrowing: false },
    progress: 'flat',
    flatForMs: windowMs,
    memoryGrowing: false,
  };
}
