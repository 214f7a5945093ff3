/**
 * Every text Ollama uses for running out of memory, so each form escalates on its first failure (a reload would only
 * run into the same wall, and 0.33 already retried it with a smaller context and after evicting other models).
 * - llm/status.go outOfMemorySubstrings (v0.33.0-rc2), matched case-insensitively as IsOutOfMemoryMessage does.
 * - llm/server.go ErrLoadRequiredFull "unable to load full model on GPU" (v0.12.6 and v0.33.0-rc2).
 * - llm/server.go "model requires more system memory (X) than is available (Y)" (v0.12.6; gone by v0.33.0-rc2,
 *   kept for older servers), "failed to allocate memory for model" (v0.12.6, covered by "failed to allocate").
 * - ml/device.go ErrNoMem "insufficient memory - required allocations" (covered by "insufficient memory"),
 *   v0.12.6 runner "CUDA error: out of memory" (covered by "out of memory").
 */
const OOM_SUBSTRINGS = [
  'out of memory',
  'out of device memory',
  'cudamalloc failed',
  'hipmalloc failed',
  'failed to allocate',
  'allocation failed',
  'not enough memory',
  'insufficient memory',
  'vk_error_out_of_device_memory',
  'erroroutofmemory',
  'unable to load full model on gpu',
  'requires more system memory',
];

/** Whether an error message from Ollama says it ran out of (device or system) memory. */
export function isOutOfMemoryMessage(message: string | undefined | null): boolean {
  const m = (message ?? '').toLowerCase();
  return OOM_SUBSTRINGS.some((s) => m.includes(s));
}
