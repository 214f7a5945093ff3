/**
 * Behaviour profiles of the Ollama simulator, chosen by the simulated `version`. Each switch names the Ollama source
 * it was read in (mirror of ollama/ollama; v0.12.6 and v0.33.0-rc2 = commit fb30760). test/sim/README.md ("Version
 * profiles") has the full table.
 */

export interface SimProfile {
  version: string;
  /** '0.12' (< 0.30, the `ollama runner` era) or '0.33' (>= 0.30, the `llama-server` era). */
  name: '0.12' | '0.33';
  /**
   * < 0.30: a loading model is in the scheduler's `loaded` map while its weights load (ollamaServer.Load returns after
   * the commit, WaitUntilRunning runs after `s.loaded[...] = runner`, server/sched.go load), so /api/ps lists it with
   * its planned size_vram. >= 0.30: llamaServerRunner.Load calls WaitUntilRunning itself (llm/llama_server.go), so the
   * model only enters `loaded` once it answers: /api/ps does not list it while it loads.
   */
  listsLoadingModels: boolean;
  /**
   * >= 0.32.4 (commit 6cd40001a, Scheduler.loadedModels): /api/ps takes each listed runner's refMu. A loading runner
   * holds it only between entering `loaded` and its (already ready) second WaitUntilRunning, so /api/ps is not blocked
   * for a cold load; see README.
   */
  psLocksRunners: boolean;
  /** >= 0.15.5 (commit 0334ffa62, server/routes.go Serve): default num_ctx 4k/32k/256k by total VRAM. */
  tieredDefaultContext: boolean;
  /**
   * `name@sha256:…` and other unparsable names on generate/chat: 0.12.6 answers 404 `model 'x' not found`
   * (GenerateHandler, name.IsValid); 0.33 answers 400 `invalid model name` (writeModelRefParseError).
   */
  invalidNameStatus: 400 | 404;
  /** The text a CUDA OOM during a load surfaces as (llm/server.go WaitUntilRunning; llm/llama_server.go). */
  oomText: string;
  /**
   * >= 0.30 (v0.30.0 server/routes.go calls sched.go expireRunnersForRuntimeOOM on a generate, chat or embed error
   * that IsOutOfMemory): an out-of-memory while running expires every loaded runner, pinned ones included (idle ones
   * at once, busy ones when their last request ends). 0.12.6 has no such call: the runner that hit it aborts (CUDA
   * error) and stays listed, dead, until expiry or the next request.
   */
  expiresAllOnRuntimeOom: boolean;
}

/** "0.33.0-rc2" → [0, 33, 0]; missing or non-numeric parts read as 0. */
export function parseVersion(version: string): [number, number, number] {
  const parts = version.replace(/^v/, '').split(/[.-]/);
  const num = (s: string | undefined) => {
    const n = Number.parseInt(s ?? '0', 10);
    return Number.isFinite(n) ? n : 0;
  };
  return [num(parts[0]), num(parts[1]), num(parts[2])];
}

export function versionAtLeast(version: string, min: string): boolean {
  const a = parseVersion(version);
  const b = parseVersion(min);
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return true;
}

export function simProfile(version: string): SimProfile {
  const llamaServer = versionAtLeast(version, '0.30.0');
  return {
    version,
    name: llamaServer ? '0.33' : '0.12',
    listsLoadingModels: !llamaServer,
    psLocksRunners: versionAtLeast(version, '0.32.4'),
    tieredDefaultContext: versionAtLeast(version, '0.15.5'),
    invalidNameStatus: llamaServer ? 400 : 404,
    oomText: llamaServer
      ? 'llama-server process has terminated: exit status 1: cudaMalloc failed: out of memory'
      : 'llama runner process has terminated: CUDA error: out of memory',
    expiresAllOnRuntimeOom: llamaServer,
  };
}

const GIB_MIB = 1024;

/**
 * num_ctx when neither the request, the model nor OLLAMA_CONTEXT_LENGTH sets one. Before 0.15.5 OLLAMA_CONTEXT_LENGTH
 * defaulted to 4096 (envconfig/config.go). Since then Serve sums TotalMemory - OLLAMA_GPU_OVERHEAD over the GPUs:
 * >= 47 GiB → 262144, >= 23 GiB → 32768, else 4096 (server/routes.go, "vram-based default context").
 */
export function defaultContextLength(profile: SimProfile, totalVramMiB: number): number {
  if (!profile.tieredDefaultContext) return 4096;
  if (totalVramMiB >= 47 * GIB_MIB) return 262144;
  if (totalVramMiB >= 23 * GIB_MIB) return 32768;
  return 4096;
}

/**
 * 0.33's automatic-context OOM retry steps (server/sched.go nextLowerAutoNumCtx): > 32768 → 32768, > 4096 → 4096,
 * else none.
 */
export function nextLowerAutoNumCtx(numCtx: number): number | undefined {
  if (numCtx > 32768) return 32768;
  if (numCtx > 4096) return 4096;
  return undefined;
}

/**
 * Substrings Ollama treats as out-of-memory (llm/status.go outOfMemorySubstrings, v0.33.0-rc2, compared lower-case),
 * plus the two load refusals of llm/server.go. For tests and the README; the sim itself only uses `oomText`.
 */
export const OOM_SUBSTRINGS: readonly string[] = [
  'out of memory',
  'out of device memory',
  'cudaMalloc failed',
  'hipMalloc failed',
  'failed to allocate',
  'allocation failed',
  'not enough memory',
  'insufficient memory',
  'vk_error_out_of_device_memory',
  'erroroutofmemory',
];
