/**
 * The simulator's processes, shaped like a real Ollama's in /proc (test/sim/README.md, "processes"):
 *
 * - runners: 0.12 profile `<dir>/ollama runner --model B --port N` (llm/server.go NewLlamaServer at v0.12.6);
 *   0.30+ profile `<dir>/lib/ollama/llama-server --model B --port N --host 127.0.0.1 --no-webui --offline -c C -np K
 *   ...` (llm/llama_server.go startLlamaServer at v0.33.0-rc2), see simRunnerArgv.
 * - GPU discovery: 0.12.5+ `<dir>/ollama runner --ollama-engine --port N` (discover/runner.go bootstrapDevices at
 *   v0.12.6); 0.30+ `llama-server --port P --host 127.0.0.1 --no-webui --offline --verbose`, `llama-server
 *   --list-devices --offline --verbose` (discover/llama_server.go llamaServerDiscoverDevices) and `<dir>/ollama
 *   gpu-discover --lib-dir <dir>/lib/ollama --lib-dir <dir>/lib/ollama/cuda_v13` (discover/native_probe.go).
 *
 * A runner's activity (what its CPU time, RSS and reads do) is set through `POST /_activity` on its own port
 * (127.0.0.1 only); calls are queued, so fire-and-forget calls apply in order.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { installFakeLlamaServer, llamaServerPath } from './prepare-ollama-executable-dir.js';

export type RunnerKind = 'ollama-runner' | 'llama-server';
export type SimActivity = 'idle' | 'loading' | 'generating' | 'hung' | 'spinning';

/** The 0.30 release replaced `ollama runner` with llama.cpp's own llama-server (test/sim/README.md). */
export function runnerKindForVersion(version: string): RunnerKind {
  const [major = 0, minor = 0] = version.split('.').map((x) => Number.parseInt(x, 10) || 0);
  return major > 0 || minor >= 30 ? 'llama-server' : 'ollama-runner';
}

export interface SimRunnerOptions {
  runnerKind: RunnerKind;
  /** A folder prepared by prepareOllamaExecutableDir. */
  executableDir: string;
  modelPath: string;
  port: number;
  /** OLLAMA_NUM_PARALLEL (slots). The 0.12 runner gets it in its /load request, not in argv. */
  parallel: number;
  numCtx: number;
  /** options.num_gpu when the request set it; -ngl is passed only then (0 = CPU on purpose). */
  numGpuLayers?: number;
  /** Embedding models (`--embedding`; Ollama loads them with one slot). */
  embedding?: boolean;
  /** 0.12 runner only: `--ollama-engine` (models the new engine runs, e.g. gpt-oss). */
  ollamaEngine?: boolean;
  /** Default 'loading': a runner starts by reading its model. */
  initialActivity?: SimActivity;
}

export interface SimRunnerProcess {
  pid: number;
  /** Full argv, argv[0] = the executable path (= /proc/<pid>/exe). */
  argv: string[];
  child: ChildProcess;
  /** The activity last asked for. */
  readonly activity: SimActivity;
  /** Resolves when the runner listens on its port; rejects when it exits first. */
  ready: Promise<void>;
  /** Queued in call order; resolves true once applied, false when the runner is gone (never rejects). */
  setActivity(a: SimActivity): Promise<boolean>;
  kill(signal?: NodeJS.Signals): void;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
}

/**
 * The runner's argv (without argv[0]) in Ollama's order. llama-server: startLlamaServer's params with Ollama's
 * defaults (num_batch 512, num_keep 4, context shift on, an Ollama-rendered chat template, flash attention "auto"
 * on a CUDA GPU with compute capability >= 6).
 */
export function simRunnerArgs(o: SimRunnerOptions): string[] {
  if (o.runnerKind === 'ollama-runner')
    return ['runner', ...(o.ollamaEngine ? ['--ollama-engine'] : []), '--model', o.modelPath, '--port', String(o.port)];
  const np = Math.max(1, o.parallel);
  const args = ['--model', o.modelPath, '--port', String(o.port), '--host', '127.0.0.1', '--no-webui', '--offline'];
  args.push('-c', String(o.numCtx * np), '-np', String(np)); // -c is the whole KV cache: num_ctx per slot
  args.push('--log-verbosity', '4', '--no-log-prefix', '--no-log-timestamps'); // appendLlamaServerLogArgs
  if (!o.embedding) args.push('--no-jinja', '--chat-template', 'chatml'); // appendJinjaArgs (DisableJinja)
  args.push('--flash-attn', 'auto'); // appendFlashAttentionArgs
  if (o.embedding)
    args.push('--embedding', '-b', '512', '-ub', '512'); // appendBatchArgs
  else args.push('-b', '512', '-ub', '512');
  if (o.numGpuLayers !== undefined && o.numGpuLayers >= 0) args.push('-ngl', String(o.numGpuLayers));
  args.push('--context-shift', '--keep', '4'); // appendContextShiftArgs (resolveContextShift: on unless deepseek2)
  return args;
}

export function simRunnerArgv(o: SimRunnerOptions): string[] {
  const exe = o.runnerKind === 'llama-server' ? llamaServerPath(o.executableDir) : join(o.executableDir, 'ollama');
  return [exe, ...simRunnerArgs(o)];
}

function ensureLlamaServer(dir: string): string {
  const exe = llamaServerPath(dir);
  return existsSync(exe) ? exe : installFakeLlamaServer(dir);
}

function postActivity(port: number, activity: SimActivity): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: 'POST', path: '/_activity', agent: false, timeout: 5000 },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200));
      },
    );
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end(activity);
  });
}

/** Spawns the runner now; `ready` says when it listens. Throws when the executable cannot be made. */
export function startSimRunner(o: SimRunnerOptions): SimRunnerProcess {
  const argv = simRunnerArgv(o);
  if (o.runnerKind === 'llama-server') ensureLlamaServer(o.executableDir);
  const initial = o.initialActivity ?? 'loading';
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: o.executableDir, // node resolves `runner` relative to the cwd
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SENTINEL_FAKE_ACTIVITY: initial },
  });
  let gone = false;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  }).then(() => {
    gone = true;
  });
  const ready = new Promise<void>((resolve, reject) => {
    let out = '';
    const fail = () => reject(new Error(`runner exited before listening (${child.exitCode ?? child.signalCode})`));
    void exited.then(fail);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('listening on')) resolve();
    });
    child.stderr!.resume();
  });
  ready.catch(() => {}); // callers that never await it must not see an unhandled rejection
  let activity: SimActivity = initial;
  let queue: Promise<boolean> = ready.then(
    () => true,
    () => false,
  );
  return {
    pid: child.pid ?? -1,
    argv,
    child,
    get activity() {
      return activity;
    },
    ready,
    setActivity(a) {
      activity = a;
      queue = queue.then(() => (gone ? false : postActivity(o.port, a)));
      return queue;
    },
    kill(signal = 'SIGTERM') {
      if (!gone && child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    exited,
  };
}

/** startSimRunner, resolved once the runner listens (rejects, the process gone, when it exits first). */
export async function spawnSimRunner(o: SimRunnerOptions): Promise<SimRunnerProcess> {
  const r = startSimRunner(o);
  await r.ready;
  return r;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface SimDiscoveryRun {
  pids: number[];
  /** argv of each process, argv[0] = the executable path, same order as pids. */
  argvs: string[][];
  /** Resolves when every process has exited. */
  exited: Promise<void>;
  kill(): void;
}

/**
 * The GPU discovery argv of a profile, each with argv[0]. Ollama runs the 0.30+ ones one after the other (and per
 * GPU library folder); the simulator starts them together so one look at /proc sees every form.
 */
export function discoveryArgvs(kind: RunnerKind, dir: string, port: number): string[][] {
  const ollama = join(dir, 'ollama');
  if (kind === 'ollama-runner') return [[ollama, 'runner', '--ollama-engine', '--port', String(port)]];
  const server = llamaServerPath(dir);
  const lib = join(dir, 'lib', 'ollama');
  // discover/llama_server.go picks `49152 + time.Now().UnixNano()%16383` and never listens on it before it is killed.
  const randomPort = String(49152 + (Date.now() % 16383));
  return [
    [server, '--port', randomPort, '--host', '127.0.0.1', '--no-webui', '--offline', '--verbose'],
    [server, '--list-devices', '--offline', '--verbose'],
    [ollama, 'gpu-discover', '--lib-dir', lib, '--lib-dir', join(lib, 'cuda_v13')],
  ];
}

/** Spawns the profile's GPU discovery processes now; each exits after durationMs (or with its parent). */
export async function spawnDiscoveryProcesses(o: {
  runnerKind: RunnerKind;
  executableDir: string;
  durationMs: number;
}): Promise<SimDiscoveryRun> {
  if (o.runnerKind === 'llama-server') ensureLlamaServer(o.executableDir);
  const port = o.runnerKind === 'ollama-runner' ? await freePort() : 0;
  const argvs = discoveryArgvs(o.runnerKind, o.executableDir, port);
  const env = { ...process.env, SENTINEL_FAKE_LIFETIME_MS: String(Math.max(1, Math.round(o.durationMs))) };
  const children = argvs.map((argv) =>
    spawn(argv[0]!, argv.slice(1), { cwd: o.executableDir, stdio: 'ignore', env, detached: false }),
  );
  const exited = Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) resolve();
          c.once('exit', () => resolve());
          c.once('error', () => resolve());
        }),
    ),
  ).then(() => {});
  return {
    pids: children.map((c) => c.pid ?? -1),
    argvs,
    exited,
    kill() {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    },
  };
}
