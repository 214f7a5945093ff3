export const PROCESS_ROLES = ['ollama_server', 'ollama_runner', 'ollama_discovery', 'other'] as const;
export type ProcessRole = (typeof PROCESS_ROLES)[number];

/** The kernel appends this to /proc/<pid>/exe once the binary was replaced or removed (e.g. an in-place upgrade). */
const DELETED = ' (deleted)';

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function hasFlag(args: readonly string[], ...flags: string[]): boolean {
  return args.some((a) => flags.includes(a) || flags.some((f) => f.startsWith('--') && a.startsWith(`${f}=`)));
}

/**
 * What an Ollama-related process is, from its argv and executable path (`/proc/<pid>/exe`; null when unreadable,
 * then argv[0] stands in). nvidia-smi shows every one of them as the same binary, so only argv tells them apart:
 * - `ollama serve`: the API server (holds VRAM itself only before 0.1.32, when llama.cpp ran in-process);
 * - `ollama runner ... --model M`: a model runner, 0.5.8 to 0.24 (and the MLX engine after);
 * - `ollama_llama_server ... --model M`: a model runner, 0.1.32 to 0.5.7;
 * - `llama-server` shipped in `lib/ollama` with `--model`: a model runner from 0.30 (upstream llama.cpp; a llama-server
 *   elsewhere is someone else's). v0.33.0-rc2 llm/llama_server.go startLlamaServer always passes `--model <blob>`;
 * - the same `lib/ollama/llama-server` WITHOUT a model is GPU discovery (v0.33.0-rc2 discover/llama_server.go
 *   llamaServerDiscoverDevices: `--port <49152+> --host 127.0.0.1 --no-webui --offline --verbose`, killed once it
 *   printed system_info, then `--list-devices --offline --verbose`);
 * - `ollama gpu-discover --lib-dir <dir>`: the native GPU probe (v0.33.0-rc2 discover/native_probe.go
 *   discoverNativeDevices, which re-executes os.Executable(); cmd/cmd.go registers the hidden command);
 * - `ollama runner` without `--model`: the short-lived GPU discovery probe (0.12.5 to 0.2x; v0.12.6
 *   discover/runner.go bootstrapDevices runs `runner --ollama-engine --port N`).
 * Discovery processes open the GPU (nvidia-smi lists them) but are never runners: signalling one can make Ollama
 * see no GPU and fall back to the CPU.
 */
export function classifyProcessRole(argv: readonly string[], exe: string | null): ProcessRole {
  const rawPath = exe ?? argv[0] ?? '';
  const path = rawPath.endsWith(DELETED) ? rawPath.slice(0, -DELETED.length) : rawPath;
  const name = basename(path);
  const args = argv.slice(1);

  if (name === 'ollama') {
    // cobra accepts global flags before the subcommand, so take the first non-flag word.
    const command = args.find((a) => !a.startsWith('-'));
    if (command === 'serve') return 'ollama_server';
    if (command === 'runner') return hasFlag(args, '--model') ? 'ollama_runner' : 'ollama_discovery';
    if (command === 'gpu-discover') return 'ollama_discovery';
    return 'other';
  }
  if (name === 'ollama_llama_server') return hasFlag(args, '--model') ? 'ollama_runner' : 'other';
  if (name === 'llama-server' && /\/lib\/ollama\//.test(path)) {
    // `-m` is llama.cpp's short form of --model: Ollama never passes it, but it still names a model to serve.
    return hasFlag(args, '--model', '-m') ? 'ollama_runner' : 'ollama_discovery';
  }
  return 'other';
}
