/**
 * CLI of the Ollama simulator. Run it either as
 *   node dist/test/sim/ollama-sim-main.js --port 11434 [--gpu-state FILE] [--models a,b] ...
 * or, to look like `ollama serve` in /proc, from a folder made by prepareOllamaExecutableDir:
 *   cd DIR && DIR/ollama serve --port 11434 ...      (runners are then spawned from DIR as well)
 * Env (read only here): OLLAMA_HOST (host[:port], when --host/--port are absent), OLLAMA_KEEP_ALIVE,
 * OLLAMA_NUM_PARALLEL, OLLAMA_MAX_QUEUE (when the flags are absent), OLLAMA_LOAD_TIMEOUT,
 * SENTINEL_FAKE_GPU_STATE (when --gpu-state is absent), SENTINEL_SIM_EXECUTABLE_DIR (set by the `serve` script),
 * SENTINEL_FAKE_HOST_PROC (the host's /proc, when the simulator runs in a PID namespace of its own).
 */
import { parseArgs } from 'node:util';
import { startOllamaSim, type OllamaSim } from './ollama-sim.js';

const USAGE = `usage: ollama-sim-main [--host 127.0.0.1] [--port 11434] [--gpu-state FILE] [--models a,b]
  [--start-delay-ms N] [--control-token T] [--version 0.12.6] [--keep-alive 5m] [--load-delay-ms N]
  [--pull-bytes-per-second N] [--num-ctx N] [--num-parallel N] [--max-queue N]`;

function parseOllamaHost(raw: string | undefined): { host?: string; port?: number } {
  if (!raw) return {};
  const m = /^(?:https?:\/\/)?(\[[^\]]+\]|[^:/]*)(?::(\d+))?/.exec(raw.trim());
  if (!m) return {};
  return { host: m[1] ? m[1].replace(/^\[|\]$/g, '') : undefined, port: m[2] ? Number(m[2]) : undefined };
}

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<OllamaSim | undefined> {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'gpu-state': { type: 'string' },
      models: { type: 'string' },
      'start-delay-ms': { type: 'string' },
      'control-token': { type: 'string' },
      version: { type: 'string' },
      'keep-alive': { type: 'string' },
      'load-delay-ms': { type: 'string' },
      'pull-bytes-per-second': { type: 'string' },
      'num-ctx': { type: 'string' },
      'num-parallel': { type: 'string' },
      'max-queue': { type: 'string' },
      help: { type: 'boolean' },
    },
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return undefined;
  }
  const fromEnv = parseOllamaHost(env.OLLAMA_HOST);
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const keepAlive = values['keep-alive'] ?? env.OLLAMA_KEEP_ALIVE;
  const sim = await startOllamaSim({
    host: values.host ?? fromEnv.host ?? '127.0.0.1',
    port: num(values.port) ?? fromEnv.port ?? 11434,
    gpuStateFile: values['gpu-state'] ?? (env.SENTINEL_FAKE_GPU_STATE || undefined),
    models: values.models
      ? values.models
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : [],
    startDelayMs: num(values['start-delay-ms']),
    controlToken: values['control-token'],
    executableDir: env.SENTINEL_SIM_EXECUTABLE_DIR || undefined,
    hostProc: env.SENTINEL_FAKE_HOST_PROC || undefined,
    version: values.version,
    // Like OLLAMA_KEEP_ALIVE: bare integers are seconds.
    defaultKeepAlive: keepAlive === undefined ? undefined : /^-?\d+$/.test(keepAlive) ? Number(keepAlive) : keepAlive,
    loadDelayMs: num(values['load-delay-ms']),
    loadTimeout: env.OLLAMA_LOAD_TIMEOUT || undefined,
    pullBytesPerSecond: num(values['pull-bytes-per-second']),
    defaultNumCtx: num(values['num-ctx']),
    numParallel: num(values['num-parallel'] ?? (env.OLLAMA_NUM_PARALLEL || undefined)),
    maxQueue: num(values['max-queue'] ?? (env.OLLAMA_MAX_QUEUE || undefined)),
    log: (line) => process.stderr.write(`ollama-sim: ${line}\n`),
  });
  process.stdout.write(`ollama-sim listening on ${sim.url} (pid ${process.pid})\n`);
  return sim;
}

let sim: OllamaSim | undefined;
let stopping = false;
function shutdown(signal: string): void {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`ollama-sim: ${signal}, shutting down\n`);
  if (!sim) process.exit(0); // still in --start-delay-ms: nothing to stop yet
  sim.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

main(process.argv.slice(2), process.env).then(
  (s) => {
    sim = s;
    if (stopping && s)
      s.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
  },
  (err: unknown) => {
    process.stderr.write(`ollama-sim: ${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  },
);
