/**
 * Pure: what `nvidia-smi -L` run inside a container says about its GPU access. true: it listed a GPU. false: NVML
 * cannot initialise ("Failed to initialize NVML: Unknown Error"), the Docker cgroup bug that silently moves Ollama to
 * the CPU (ollama#14658, nvidia-container-toolkit#48). null: anything else (not installed, other errors, no GPU
 * configured), which is not evidence either way.
 */
export function classifyGpuList(exitCode: number | null, output: string): boolean | null {
  if (/Failed to initialize NVML/i.test(output)) return false;
  if (exitCode === 0 && /^GPU \d+:/m.test(output)) return true;
  return null;
}
