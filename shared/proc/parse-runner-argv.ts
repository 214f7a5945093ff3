/** What a model runner's command line says about it. */
export interface RunnerArgv {
  /** `sha256-<hex>` of the `--model` path when it is an Ollama blob (`.../blobs/sha256-<hex>`); else null. */
  readonly modelBlob: string | null;
  /** Parallel request slots the runner was started with; null when its argv does not say. */
  readonly slots: number | null;
}

/** Value of an option given as `--flag value` or `--flag=value` (the last one wins, as in getopt-style parsers). */
function optionValue(args: readonly string[], names: readonly string[]): string | null {
  let value: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    for (const name of names) {
      if (a === name && i + 1 < args.length) value = args[i + 1]!;
      else if (a.startsWith(`${name}=`)) value = a.slice(name.length + 1);
    }
  }
  return value;
}

/** Ollama stores every blob as `<models>/blobs/sha256-<hex digest>` (older releases wrote `sha256:<hex>`). */
const BLOB = /(?:^|\/)blobs\/sha256[-:]([0-9a-f]{12,})$/;

/**
 * The model blob and slot count of a runner, from its argv (argv[0] included or not):
 * - 0.30+ `lib/ollama/llama-server --model <blob> ... -np <N>` (v0.33.0-rc2 llm/llama_server.go startLlamaServer
 *   passes `-np strconv.Itoa(numParallel)`; llama.cpp also takes `--parallel N` and the `=` forms);
 * - 0.5.8-0.2x `ollama runner [--ollama-engine] --model <blob> --port N`: no slot count in argv (v0.12.6
 *   llm/server.go NewLlamaServer sends `Parallel` in the /load request body instead), so slots is null there.
 */
export function parseRunnerArgv(argv: readonly string[]): RunnerArgv {
  const model = optionValue(argv, ['--model', '-m']);
  const hex = model === null ? null : (BLOB.exec(model)?.[1] ?? null);
  const parallel = optionValue(argv, ['--parallel', '-np']);
  const slots = parallel !== null && /^\d+$/.test(parallel) ? Number(parallel) : null;
  return { modelBlob: hex === null ? null : `sha256-${hex}`, slots: slots !== null && slots > 0 ? slots : null };
}
