/**
 * Rows 3, 5, 6, 7 and 9 of issue 9: the runner process (argv, crash), out-of-memory texts, CPU by design and the
 * default context. Rows 3 and 5 break things on purpose and run only with --destructive; rows 3 and 7 read /proc on
 * this host (--proc).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { ConformanceContext, RowCheck } from './conformance-context.js';
import { fail, pass, skip, sleep, versionAtLeast, waitFor } from './conformance-context.js';
import { findPs } from './conformance-client.js';
// The product's own list of Ollama's OOM texts (llm/status.go, llm/server.go): one list to keep in step with Ollama.
import { isOutOfMemoryMessage } from '../../shared/diagnosis/out-of-memory.js';

interface ProcEntry {
  readonly pid: number;
  readonly ppid: number;
  readonly argv: readonly string[];
}

function listProcesses(procRoot: string): ProcEntry[] {
  const out: ProcEntry[] = [];
  for (const name of readdirSync(procRoot)) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const raw = readFileSync(join(procRoot, name, 'cmdline'), 'utf8');
      const argv = raw.split('\0').filter((a, i, all) => a !== '' || i < all.length - 1);
      // stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses, so split after the last ")".
      const stat = readFileSync(join(procRoot, name, 'stat'), 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (argv.length > 0) out.push({ pid: Number(name), ppid, argv });
    } catch {
      // gone or not ours to read
    }
  }
  return out;
}

/** Socket inodes listening on `port` in the network namespace this process sees (/proc/net/tcp and tcp6). */
function listeningInodes(procRoot: string, port: number): Set<string> {
  const inodes = new Set<string>();
  for (const file of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(join(procRoot, 'net', file), 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is HEXIP:HEXPORT; st 0A is LISTEN; the inode is the tenth field.
      if (f.length > 9 && f[3] === '0A' && parseInt(f[1]!.split(':')[1] ?? '', 16) === port) inodes.add(f[9]!);
    }
  }
  return inodes;
}

/**
 * The server under test: --server-pid, or the one process holding the socket that listens on the URL's port here.
 * A string says why it could not be proven (a server in another network namespace, e.g. a container on a bridge
 * network: pass --server-pid).
 */
function serverPid(ctx: ConformanceContext, all: readonly ProcEntry[]): number | string {
  if (ctx.options.serverPid !== undefined) {
    return all.some((p) => p.pid === ctx.options.serverPid)
      ? ctx.options.serverPid
      : `--server-pid ${ctx.options.serverPid} is not a process in /proc`;
  }
  const procRoot = ctx.options.procRoot ?? '/proc';
  const url = new URL(ctx.options.ollama);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const inodes = listeningInodes(procRoot, port);
  if (inodes.size === 0)
    return `nothing listens on port ${port} in this network namespace: pass --server-pid PID (the ollama serve process)`;
  const holders = new Set<number>();
  for (const p of all) {
    let fds: string[];
    try {
      fds = readdirSync(join(procRoot, String(p.pid), 'fd'));
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const link = readlinkSync(join(procRoot, String(p.pid), 'fd', fd));
        const m = /^socket:\[(\d+)\]$/.exec(link);
        if (m && inodes.has(m[1]!)) holders.add(p.pid);
      } catch {
        // closed meanwhile
      }
    }
  }
  if (holders.size !== 1)
    return `${holders.size} processes hold the socket listening on port ${port}: pass --server-pid PID (the ollama serve process)`;
  return [...holders][0]!;
}

/** The processes under `root` (its children, their children...), without `root` itself. */
function descendantsOf(all: readonly ProcEntry[], root: number): ProcEntry[] {
  const tree = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of all)
      if (!tree.has(p.pid) && tree.has(p.ppid)) {
        tree.add(p.pid);
        grew = true;
      }
  }
  return all.filter((p) => p.pid !== root && tree.has(p.pid));
}

const base = (p: string): string => p.slice(p.lastIndexOf('/') + 1);
const isLlamaServer = (p: ProcEntry): boolean => /(^|\/)lib\/ollama\/llama-server$/.test(p.argv[0] ?? '');
const isOllamaRunner = (p: ProcEntry): boolean => base(p.argv[0] ?? '') === 'ollama' && p.argv[1] === 'runner';
const modelArg = (p: ProcEntry): string | undefined => {
  const i = p.argv.indexOf('--model');
  return i >= 0 ? p.argv[i + 1] : undefined;
};

/** The model's blob file name ("sha256-<hex>") from /api/show's modelfile (`FROM .../blobs/sha256-<hex>`). */
async function blobOf(ctx: ConformanceContext, model: string): Promise<string | undefined> {
  const a = await ctx.client.request('POST', '/api/show', { model });
  const modelfile = (a.json as { modelfile?: unknown } | undefined)?.modelfile;
  const m = typeof modelfile === 'string' ? /^FROM\s+\S*?(sha256-[0-9a-f]{64})\s*$/m.exec(modelfile) : null;
  return m?.[1];
}

/** Loads the model and finds its runner process in /proc: a string is why it could not. */
async function findRunner(ctx: ConformanceContext): Promise<{ runner: ProcEntry; all: ProcEntry[] } | string> {
  const loaded = await ctx.client.load(ctx.model, { keep_alive: '5m' });
  if (loaded.status !== 200) return `could not load ${ctx.model}: ${loaded.error ?? `HTTP ${loaded.status}`}`;
  ctx.loaded.add(ctx.model);
  const blob = await blobOf(ctx, ctx.model);
  if (!blob) return "/api/show's modelfile has no FROM .../blobs/sha256-<hex> line";
  const everything = listProcesses(ctx.options.procRoot ?? '/proc');
  const server = serverPid(ctx, everything);
  if (typeof server === 'string') return server;
  // Only the server's own children: another Ollama on this host (or another simulator) runs the same blobs, and
  // row 3 SIGKILLs what this returns.
  const all = descendantsOf(everything, server);
  const runner = all.find((p) => base(modelArg(p) ?? '') === blob);
  return runner ? { runner, all } : `no child process of the server (pid ${server}) runs --model .../${blob}`;
}

export const row3CrashedRunnerListed: RowCheck = {
  row: 3,
  title: 'a crashed runner stays in /api/ps with its old size_vram',
  source:
    'server/sched.go: nothing removes a runner from s.loaded when its process exits (runnerRef.HasExited is not ' +
    'consulted by the scheduler loops); it leaves at keep_alive expiry or when needsReload (Ping fails) reloads it on ' +
    'the next request; loadedModels/PsHandler report the size_vram fixed at load; same in v0.12.6',
  async run(ctx) {
    if (!ctx.options.destructive) return skip('kills the model runner: needs --destructive (and --proc)');
    if (!ctx.options.proc) return skip('needs --proc to find the runner PID in /proc');
    const found = await findRunner(ctx);
    if (typeof found === 'string') return skip(found);
    const before = await ctx.client.ps();
    const entry0 = before && findPs(before, ctx.model);
    if (!entry0) return fail(`${ctx.model} listed after its load`, 'not listed');
    const pid = found.runner.pid;
    process.kill(pid, 'SIGKILL');
    const dead = await waitFor(
      async () => (listProcesses(ctx.options.procRoot ?? '/proc').some((p) => p.pid === pid) ? undefined : true),
      5000,
      50,
      ctx.signal,
    );
    if (!dead) return skip(`runner pid ${pid} did not exit within 5 s of SIGKILL`);
    await sleep(Math.min(1000, ctx.options.observeMs ?? 1000), ctx.signal);
    const after = await ctx.client.ps();
    const entry = after && findPs(after, ctx.model);
    await ctx.client.unload(ctx.model);
    if (!entry)
      return fail(
        'still listed after its runner died, with its old size_vram',
        after ? 'dropped from /api/ps at once' : '/api/ps did not answer',
      );
    if (entry.size_vram !== entry0.size_vram)
      return fail(`size_vram stays ${entry0.size_vram}`, `size_vram ${entry.size_vram} after the crash`);
    return pass(`runner pid ${pid} SIGKILLed; still listed afterwards with size_vram ${entry.size_vram}`);
  },
};

export const row5OomTexts: RowCheck = {
  row: 5,
  title: 'an out-of-memory load fails with one of the known OOM texts',
  source:
    'llm/status.go outOfMemorySubstrings/IsOutOfMemoryMessage; llm/server.go ErrLoadRequiredFull; server/sched.go ' +
    'load (reduceAutoNumCtxForLoadOOM, then evictAllAndWait: evicts every model, pinned ones included) and ' +
    'expireRunnersForRuntimeOOM; v0.12.6 llm/server.go ("model requires more system memory")',
  async run(ctx) {
    if (!ctx.options.destructive)
      return skip('an OOM load evicts every loaded model, pinned ones included: needs --destructive and --oom-model');
    const model = ctx.options.oomModel;
    if (!model) return skip('needs --oom-model NAME: a local model too big for this machine');
    ctx.loaded.add(model);
    // Not keep_alive 0: with an empty prompt that is an unload request (server/routes.go GenerateHandler).
    const a = await ctx.client.load(model, { keep_alive: '30s', options: { num_gpu: 999 } });
    if (a.status === 200) return skip(`${model} loaded: no out-of-memory was provoked`);
    const error = (a.json as { error?: unknown } | undefined)?.error;
    const text = typeof error === 'string' ? error : (a.error ?? a.text);
    if (isOutOfMemoryMessage(text)) return pass(`HTTP ${a.status}: ${text.slice(0, 160)}`);
    return fail('an error with a known OOM text (llm/status.go)', `HTTP ${a.status}: ${text.slice(0, 300)}`);
  },
};

export const row6CpuByDesign: RowCheck = {
  row: 6,
  title: 'options.num_gpu 0 runs the model on the CPU: size_vram 0',
  source:
    'llm/llama_server.go startLlamaServer (NumGPU == 0: "-ngl 0", CPU only; MemorySize reports the parsed GPU ' +
    'buffers); server/sched.go needsReload (num_gpu is a runner option); v0.12.6 llm/server.go (no layers offloaded)',
  async run(ctx) {
    await ctx.client.unload(ctx.model);
    ctx.loaded.add(ctx.model);
    const a = await ctx.client.load(ctx.model, { keep_alive: '5m', options: { num_gpu: 0 } });
    if (a.status !== 200) return skip(`could not load ${ctx.model} with num_gpu 0: ${a.error ?? `HTTP ${a.status}`}`);
    const ps = await ctx.client.ps();
    const entry = ps && findPs(ps, ctx.model);
    // The next rows want the model back on the GPU: this runner was forced onto the CPU.
    await ctx.client.unload(ctx.model);
    if (!entry) return fail(`${ctx.model} listed after its load`, ps ? 'not listed' : '/api/ps did not answer');
    if (entry.size_vram === 0) return pass(`size_vram 0 of size ${entry.size}`);
    // llama-server may keep small compute buffers on the GPU with -ngl 0; the weights and KV cache stay on the CPU.
    if (entry.size_vram <= entry.size * 0.1)
      return pass(
        `size_vram ${entry.size_vram} of ${entry.size} (${pctOf(entry.size_vram, entry.size)}: buffers only)`,
      );
    return fail('size_vram 0 (CPU only)', `size_vram ${entry.size_vram} of ${entry.size}`);
  },
};

const pctOf = (a: number, b: number): string => `${((100 * a) / Math.max(1, b)).toFixed(1)}%`;

export const row7RunnerArgv: RowCheck = {
  row: 7,
  title: 'runner and discovery processes (argv forms)',
  source:
    'llm/llama_server.go startLlamaServer (<dir>/lib/ollama/llama-server --model <blob> --port N --host 127.0.0.1 ' +
    '--no-webui --offline -c .. -np ..); discover/llama_server.go (llama-server --list-devices --offline --verbose), ' +
    'discover/native_probe.go (ollama gpu-discover --lib-dir ..): no --model; v0.12.6 llm/server.go NewLlamaServer ' +
    '(ollama runner [--ollama-engine] --model <blob> --port N), discover/runner.go (runner --ollama-engine --port N)',
  async run(ctx) {
    if (!ctx.options.proc) return skip('needs --proc: the server runs on this host and /proc/*/cmdline is readable');
    if (!ctx.version) return skip(`server version "${ctx.versionText}" is not x.y.z: cannot tell which form applies`);
    const found = await findRunner(ctx);
    if (typeof found === 'string') return skip(found);
    const { runner, all } = found;
    const argv = runner.argv;
    const llamaEra = versionAtLeast(ctx.version, [0, 30, 0]);
    const discovery = all.filter(
      (p) => p !== runner && (isLlamaServer(p) || isOllamaRunner(p) || p.argv.includes('gpu-discover')) && !modelArg(p),
    );
    const shown = argv.slice(0, 11).join(' ');
    if (llamaEra) {
      const want = ['--port', '--host', '127.0.0.1', '--no-webui', '--offline'];
      const missing = want.filter((w) => !argv.includes(w));
      if (!isLlamaServer(runner) || missing.length > 0)
        return fail(
          '<dir>/lib/ollama/llama-server --model <blob> --port N --host 127.0.0.1 --no-webui --offline ...',
          `pid ${runner.pid}: ${shown}${missing.length ? ` (missing ${missing.join(' ')})` : ''}`,
        );
    } else if (!isOllamaRunner(runner) || !argv.includes('--port')) {
      return fail('ollama runner [--ollama-engine] --model <blob> --port N', `pid ${runner.pid}: ${shown}`);
    }
    return pass(`runner pid ${runner.pid}: ${shown}; discovery processes now: ${discovery.length}`);
  },
};

export const row9DefaultContext: RowCheck = {
  row: 9,
  title: 'without num_ctx the context defaults by VRAM (>= 0.15.5) or to 4096',
  source:
    'server/routes.go Serve (defaultNumCtx from total VRAM less OLLAMA_GPU_OVERHEAD: >= 47 GiB 262144, >= 23 GiB ' +
    '32768, else 4096; commit 0334ffa62, v0.15.5) and modelOptions (NumCtx 0: defaultNumCtx); server/sched.go ' +
    'effectiveModelContext (capped at the trained context); v0.12.6 envconfig.ContextLength (4096) and server/routes.go ' +
    'scheduleRunner (gpt-oss at least 8192 unless low VRAM)',
  async run(ctx) {
    if (!ctx.version) return skip(`server version "${ctx.versionText}" is not x.y.z`);
    const tiered = versionAtLeast(ctx.version, [0, 15, 5]);
    const { contextLength, gpuVramGib } = ctx.options;
    if (tiered && contextLength === undefined && gpuVramGib === undefined)
      return skip(
        'needs the GPU memory: --gpu-vram-gib N (total VRAM less OLLAMA_GPU_OVERHEAD; or --context-length N)',
      );
    const show = await ctx.client.request('POST', '/api/show', { model: ctx.model });
    const body = show.json as {
      parameters?: unknown;
      model_info?: Record<string, unknown>;
      details?: { family?: string };
    };
    if (show.status !== 200) return skip(`/api/show ${ctx.model}: HTTP ${show.status}`);
    if (typeof body.parameters === 'string' && /(^|\n)\s*num_ctx\s/.test(body.parameters))
      return skip(`${ctx.model}'s Modelfile sets num_ctx: pick a model without it`);
    const trainKey = Object.keys(body.model_info ?? {}).find((k) => k.endsWith('.context_length'));
    const train = trainKey ? Number(body.model_info?.[trainKey]) : undefined;
    let want = contextLength ?? (tiered ? tier(gpuVramGib ?? 0) : 4096);
    if (!tiered && ['gptoss', 'gpt-oss'].includes(body.details?.family ?? '')) want = Math.max(want, 8192);
    const accepted = new Set([want, train ? Math.min(want, train) : want]);
    await ctx.client.unload(ctx.model);
    const gone = await waitFor(
      async () => {
        const ps = await ctx.client.ps();
        return ps && !findPs(ps, ctx.model) ? true : undefined;
      },
      30_000,
      200,
      ctx.signal,
    );
    if (!gone) return skip(`${ctx.model} could not be unloaded first`);
    ctx.loaded.add(ctx.model);
    const a = await ctx.client.load(ctx.model, { keep_alive: '5m' });
    if (a.status !== 200) return skip(`could not load ${ctx.model}: ${a.error ?? `HTTP ${a.status}`}`);
    const ps = await ctx.client.ps();
    const entry = ps && findPs(ps, ctx.model);
    if (!entry) return fail(`${ctx.model} listed after its load`, ps ? 'not listed' : '/api/ps did not answer');
    const expected = `context_length ${[...accepted].join(' or ')}`;
    if (entry.context_length === undefined) return fail(expected, 'no context_length in /api/ps');
    if (accepted.has(entry.context_length)) return pass(`context_length ${entry.context_length}`);
    return fail(
      expected,
      `context_length ${entry.context_length} (a load short of memory retries with a smaller automatic context: ` +
        'server/sched.go reduceAutoNumCtxForLoadOOM)',
    );
  },
};

/** server/routes.go Serve's VRAM tiers (thresholds 47/23 GiB, not 48/24, on purpose there). */
function tier(gib: number): number {
  if (gib >= 47) return 262_144;
  if (gib >= 23) return 32_768;
  return 4096;
}

export const runnerRows: readonly RowCheck[] = [
  row3CrashedRunnerListed,
  row5OomTexts,
  row6CpuByDesign,
  row7RunnerArgv,
  row9DefaultContext,
];
