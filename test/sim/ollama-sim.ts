/**
 * Ollama simulator (node:http only): the documented API (see /work/shared/reference/ollama.md §1, §3, §4) with real
 * runner processes (`<dir>/ollama runner --model B --port N`), VRAM accounting in the fake GPU state file, and a
 * control API under /_sim/ for failure injection (documented in test/sim/README.md; its body and answer types and
 * the client in sim-control.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alive } from '../../shared/proc/read-process-identity.js';
import { formatGoTime, parseGoDuration } from './go-duration.js';
import { memoryFreeMiB, readGpuState, updateGpuState, defaultH100State, type GpuState } from './gpu-state.js';
import {
  findCatalogueModel,
  genericModel,
  modelLayers,
  normalizeSimModelName,
  sha256Hex,
  type CatalogueModel,
} from './model-catalogue.js';
import { prepareOllamaExecutableDir } from './prepare-ollama-executable-dir.js';
import {
  runnerKindForVersion,
  spawnDiscoveryProcesses,
  simRunnerArgv,
  startSimRunner,
  type SimDiscoveryRun,
  type SimRunnerOptions,
  type SimRunnerProcess,
} from './sim-runner.js';
import {
  SimControl,
  type ForcedAnswer,
  type LoggedRequest,
  type PullFault,
  type SimConfig,
  type SimFaults,
  type SimSnapshot,
} from './sim-control.js';

export interface OllamaSimOptions {
  host?: string;
  /** 0 (default) = any free port. */
  port?: number;
  /** Fake GPU state file: VRAM capacity comes from it, runner PIDs and VRAM go into it. */
  gpuStateFile?: string;
  /** Models present locally at start (normalised; unknown names become small generic models). */
  models?: string[];
  /** Not listening until this long after start. */
  startDelayMs?: number;
  /** When set, /_sim/* requires `Authorization: Bearer <token>`. */
  controlToken?: string;
  /** A folder prepared by prepareOllamaExecutableDir (default: a fresh one in the sim's temp dir). */
  executableDir?: string;
  /** Reported by /api/version. */
  version?: string;
  /** Like OLLAMA_KEEP_ALIVE (Go duration or seconds; negative = forever). Default "5m". */
  defaultKeepAlive?: string | number;
  /** num_ctx when a request sets none (like OLLAMA_CONTEXT_LENGTH). Default 4096. */
  defaultNumCtx?: number;
  /** Extra time a load takes after the runner answers. Default 20 ms. */
  loadDelayMs?: number;
  /** 0 (default) = fast: every layer in a few steps, a whole model in well under a second. */
  pullBytesPerSecond?: number;
  /** Wall-clock delay between streamed tokens. Default 0. */
  tokenDelayMs?: number;
  /** Like OLLAMA_MAX_QUEUE: concurrent generate/chat beyond this get 503. Default 512. */
  maxQueue?: number;
  log?: (line: string) => void;
  /** GPU discovery processes at start, before listening (as `ollama serve` does). Default 200 ms on 0.30+, else 0. */
  startupDiscoveryMs?: number;
}

export interface OllamaSim {
  url: string;
  host: string;
  port: number;
  /** Typed client for /_sim/. */
  control: SimControl;
  /** Folder holding the `ollama` executable and the runner script. */
  executableDir: string;
  snapshot(): SimSnapshot;
  /** Stops the server, every runner (removing them from the GPU state) and deletes the sim's temp files. */
  close(): Promise<void>;
}

class SimError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface LocalModel {
  name: string;
  model: CatalogueModel;
  /** Manifest digest, bare hex. */
  digest: string;
  modifiedAt: Date;
  parentModel: string;
  system?: string;
  template?: string;
}

interface Runner {
  name: string;
  model: CatalogueModel;
  digest: string;
  proc: ChildProcess | undefined;
  /** The runner process handle (sim-runner.ts): setActivity drives its CPU time, RSS and reads. */
  handle: SimRunnerProcess | undefined;
  port: number;
  argv: string[];
  optionsKey: string;
  numCtx: number;
  size: number;
  sizeVram: number;
  onGpu: boolean;
  /** ms; Infinity = forever; 0 = unload when idle. */
  sessionMs: number;
  expiresAt: Date;
  timer: NodeJS.Timeout | undefined;
  refCount: number;
  loading: boolean;
  stopping: boolean;
  unloading: boolean;
  /** Sub-millisecond digits for expires_at, so it reads like Go's nanosecond times. */
  nsJitter: number;
}

interface PullJob {
  name: string;
  events: EventEmitter;
  subscribers: number;
  aborted: boolean;
}

const MIB = 1024 * 1024;
const FOREVER_MS = 9_223_372_036_854; // MaxInt64 ns, as Ollama uses for negative keep_alive
const MSG_BUSY = 'server busy, please try again.  maximum pending requests exceeded';
const MSG_OOM = 'llama runner process has terminated: CUDA error: out of memory';
const RUNNER_OPTIONS = ['num_ctx', 'num_batch', 'num_gpu', 'main_gpu', 'use_mmap', 'num_thread'];
const WORDS = (
  'The sky appears blue because air molecules scatter shorter wavelengths of sunlight more than longer ones, ' +
  'so blue light reaches our eyes from every direction .'
).split(' ');

/** How long the per-load GPU discovery processes live (a real bootstrap takes ~0.1-1 s). */
const LOAD_DISCOVERY_MS = 100;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Go's JSON binding of keep_alive: number = seconds, string = Go duration; negative = forever. Returns ms. */
export function parseKeepAlive(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  let ms: number;
  if (typeof value === 'number') ms = value * 1000;
  else if (typeof value === 'string') {
    try {
      ms = parseGoDuration(value);
    } catch (err) {
      throw new SimError(400, (err as Error).message);
    }
  } else throw new SimError(400, 'json: cannot unmarshal keep_alive: unsupported type');
  return ms < 0 ? Infinity : ms;
}

function goNow(): string {
  return formatGoTime(new Date(), Math.floor(Math.random() * 1_000_000));
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export async function startOllamaSim(opts: OllamaSimOptions = {}): Promise<OllamaSim> {
  const host = opts.host ?? '127.0.0.1';
  const version = opts.version ?? '0.12.6';
  const log = opts.log ?? (() => {});
  const tempDir = mkdtempSync(join(tmpdir(), 'ollama-sim-'));
  const exeDir = prepareOllamaExecutableDir(opts.executableDir ?? join(tempDir, 'bin'));
  const runnerKind = runnerKindForVersion(version);
  // OLLAMA_NUM_PARALLEL; the option itself is declared by the API-semantics work (numParallel in OllamaSimOptions).
  const numParallel = Math.max(1, (opts as { numParallel?: number }).numParallel ?? 1);
  const discoveryRuns = new Set<SimDiscoveryRun>();
  const modelsDir = join(tempDir, 'models');
  const defaultKeepAliveMs = parseKeepAlive(opts.defaultKeepAlive ?? '5m')!;
  const defaultNumCtx = opts.defaultNumCtx ?? 4096;

  const config: SimConfig = {
    loadDelayMs: opts.loadDelayMs ?? 20,
    tokenDelayMs: opts.tokenDelayMs ?? 0,
    pullBytesPerSecond: opts.pullBytesPerSecond ?? 0,
    maxQueue: opts.maxQueue ?? 512,
    partialOffloadRatio: null,
    vramLimitMiB: null,
  };
  const faults: SimFaults = {
    cpuFallback: false,
    psLie: false,
    hangGenerate: false,
    oomOnLoad: 0,
    containerGpuLost: false,
    flakyConnections: 0,
  };
  let forcedAnswers: ForcedAnswer[] = [];
  let pullFault: PullFault | null = null;
  const requestLog: LoggedRequest[] = [];
  const local = new Map<string, LocalModel>();
  const runners = new Map<string, Runner>();
  const pullProgress = new Map<string, Map<string, number>>();
  const pullJobs = new Map<string, PullJob>();
  const modelLocks = new Map<string, Promise<unknown>>();
  /** Resolved when a hung generate may go on (fault cleared) or the sim closes. */
  let hangRelease = new EventEmitter();
  let inFlight = 0;
  let closed = false;

  function addLocal(rawName: string, size?: number, base?: LocalModel, extra: Partial<LocalModel> = {}): LocalModel {
    const name = normalizeSimModelName(rawName);
    if (name === undefined) throw new SimError(400, 'invalid model name');
    const model = base ? { ...base.model, name } : (findCatalogueModel(name) ?? genericModel(name, size));
    const entry: LocalModel = {
      name,
      model: size !== undefined ? { ...model, size } : model,
      digest: sha256Hex(`${name}/manifest/${extra.system ?? ''}/${extra.template ?? ''}`),
      modifiedAt: new Date(),
      parentModel: '',
      ...extra,
    };
    local.set(name, entry);
    return entry;
  }
  for (const m of opts.models ?? []) addLocal(m);

  // ---------- GPU state ----------
  const gpuFile = opts.gpuStateFile;
  const readState = (): GpuState => {
    if (!gpuFile) return defaultH100State();
    try {
      return readGpuState(gpuFile);
    } catch {
      return defaultH100State();
    }
  };
  async function editGpuState(fn: (s: GpuState) => void): Promise<void> {
    if (!gpuFile) return;
    await updateGpuState(gpuFile, fn);
  }
  async function syncRunnerProcs(): Promise<void> {
    const ours = [...runners.values()].filter((r) => r.onGpu && r.proc?.pid !== undefined && !faults.psLie);
    const pids = new Set([...runners.values()].map((r) => r.proc?.pid));
    await editGpuState((s) => {
      const gpu = s.gpus.find((g) => !g.lost) ?? s.gpus[0];
      s.procs = s.procs.filter((p) => !(p.name === exeDir.executable && (pids.has(p.pid) || !alive(p.pid))));
      if (!gpu) return;
      for (const r of ours)
        s.procs.push({
          gpuUuid: gpu.uuid,
          pid: r.proc!.pid!,
          usedMiB: Math.round(r.sizeVram / MIB),
          name: exeDir.executable,
        });
    });
  }
  /** MiB a new load may place on the GPU. */
  function availableVramMiB(exclude?: Runner): number {
    const state = readState();
    const gpu = state.gpus.find((g) => !g.lost);
    if (!gpu) return 0;
    let free = memoryFreeMiB(state, gpu);
    const oursMiB = [...runners.values()].filter((r) => r !== exclude).reduce((s, r) => s + r.sizeVram / MIB, 0);
    // Without a state file (or while ps lies) our runners are not recorded there: subtract them here.
    if (!gpuFile || faults.psLie) free -= oursMiB;
    if (config.vramLimitMiB !== null) free = Math.min(free, config.vramLimitMiB - oursMiB);
    return Math.max(0, Math.floor(free));
  }

  // ---------- runners ----------
  /** GPU discovery processes of this profile (sim-runner.ts), children of the sim, gone after ms. */
  function runDiscovery(ms: number): { pids: Promise<number[]>; exited: Promise<void> } {
    const run = spawnDiscoveryProcesses({ runnerKind, executableDir: exeDir.dir, durationMs: ms }).then((d) => {
      discoveryRuns.add(d);
      void d.exited.then(() => discoveryRuns.delete(d));
      return d;
    });
    return { pids: run.then((d) => d.pids), exited: run.then((d) => d.exited) };
  }

  function withModelLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const prev = modelLocks.get(name) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    modelLocks.set(
      name,
      next.catch(() => {}),
    );
    return next;
  }

  function armExpiry(r: Runner): void {
    if (r.timer) clearTimeout(r.timer);
    r.timer = undefined;
    if (r.refCount > 0 || r.stopping) return;
    if (r.sessionMs === 0) {
      void unload(r);
      return;
    }
    r.expiresAt = new Date(Date.now() + (r.sessionMs === Infinity ? FOREVER_MS : r.sessionMs));
    if (r.sessionMs !== Infinity) {
      r.timer = setTimeout(() => void unload(r), r.sessionMs);
      r.timer.unref();
    }
  }

  async function unload(r: Runner): Promise<void> {
    if (r.unloading) return;
    r.unloading = true;
    if (r.timer) clearTimeout(r.timer);
    if (runners.get(r.name) === r) runners.delete(r.name);
    const proc = r.proc;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise<void>((res) => proc.once('exit', () => res()));
      proc.kill('SIGTERM');
      const killTimer = setTimeout(() => proc.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(killTimer);
    }
    await editGpuState((s) => {
      s.procs = s.procs.filter((p) => p.pid !== proc?.pid);
    });
    log(`unloaded ${r.name}`);
  }

  function footprint(m: CatalogueModel, numCtx: number): number {
    return m.size + m.kvBytesPerToken * numCtx + 256 * MIB;
  }

  async function load(lm: LocalModel, options: Record<string, unknown>, optionsKey: string): Promise<Runner> {
    if (closed) throw new SimError(499, 'server shutting down');
    if (faults.oomOnLoad !== 0) {
      if (faults.oomOnLoad > 0) faults.oomOnLoad--;
      throw new SimError(500, MSG_OOM);
    }
    const numCtx = Math.min(
      Number(options.num_ctx ?? defaultNumCtx) || defaultNumCtx,
      lm.model.maxContext || defaultNumCtx,
    );
    const size = footprint(lm.model, numCtx);
    const sizeMiB = Math.ceil(size / MIB);
    let vramMiB: number;
    if (faults.cpuFallback || options.num_gpu === 0) vramMiB = 0;
    else if (config.partialOffloadRatio !== null)
      vramMiB = Math.floor(sizeMiB * Math.min(1, Math.max(0, config.partialOffloadRatio)));
    else {
      // Like the scheduler: evict idle runners before settling for a partial offload.
      for (const other of [...runners.values()].sort((a, b) => a.expiresAt.getTime() - b.expiresAt.getTime())) {
        if (availableVramMiB() >= sizeMiB) break;
        if (other.refCount === 0 && !other.loading && !other.stopping) await unload(other);
      }
      const avail = availableVramMiB();
      vramMiB = avail >= sizeMiB ? sizeMiB : avail > 1024 ? avail - 512 : 0;
    }
    const port = await freePort('127.0.0.1');
    const blob = join(modelsDir, 'blobs', modelLayers(lm.model)[0]!.digest.replace(':', '-'));
    const runnerOpts: SimRunnerOptions = {
      runnerKind,
      executableDir: exeDir.dir,
      modelPath: blob,
      port,
      parallel: numParallel,
      numCtx,
      ...(typeof options.num_gpu === 'number' ? { numGpuLayers: options.num_gpu } : {}),
      embedding: !lm.model.capabilities.includes('completion'),
    };
    if (runnerOpts.embedding) runnerOpts.parallel = 1; // server/sched.go load: embedding models get one slot
    const r: Runner = {
      name: lm.name,
      model: lm.model,
      digest: lm.digest,
      proc: undefined,
      handle: undefined,
      port,
      argv: simRunnerArgv(runnerOpts),
      optionsKey,
      numCtx,
      size,
      sizeVram: vramMiB === sizeMiB ? size : vramMiB * MIB,
      onGpu: vramMiB > 0,
      sessionMs: defaultKeepAliveMs,
      expiresAt: new Date(Date.now() + config.loadDelayMs + defaultKeepAliveMs),
      timer: undefined,
      refCount: 1,
      loading: true,
      stopping: false,
      unloading: false,
      nsJitter: Math.floor(Math.random() * 1_000_000),
    };
    // With no runner on the GPU to ask, the scheduler's GPU refresh runs discovery processes before a load
    // (server/sched.go processPending -> discover/runner.go GPUDevices, bootstrap with a 3 s timeout).
    if (runnerKind === 'llama-server' && options.num_gpu !== 0 && ![...runners.values()].some((o) => o.onGpu))
      await runDiscovery(LOAD_DISCOVERY_MS).exited;
    runners.set(lm.name, r);
    const handle = startSimRunner(runnerOpts);
    const proc = handle.child;
    r.proc = proc;
    r.handle = handle;
    proc.on('exit', (code, signal) => {
      log(`runner ${lm.name} pid ${proc.pid} exited (${code ?? signal})`);
      if (!r.unloading) void unload(r); // crashed or killed from outside: forget it, as the scheduler would
    });
    try {
      await handle.ready.catch(() => {
        throw new SimError(500, `llama runner process has terminated: exit status ${proc.exitCode ?? 1}`);
      });
      await sleep(config.loadDelayMs);
      if (r.unloading) throw new SimError(500, 'llama runner process has terminated: exit status 1');
    } catch (err) {
      r.refCount = 0;
      await unload(r);
      throw err;
    }
    r.loading = false;
    void handle.setActivity('idle');
    await syncRunnerProcs();
    log(`loaded ${lm.name} pid ${proc.pid} size ${size} size_vram ${r.sizeVram}`);
    return r;
  }

  /** Gets (or loads) the runner for a request and takes a reference on it. */
  async function acquire(
    lm: LocalModel,
    options: Record<string, unknown>,
    aborted: () => boolean,
  ): Promise<{ runner: Runner; loadNs: number }> {
    const optionsKey = JSON.stringify(
      RUNNER_OPTIONS.map((k) => options[k] ?? (k === 'num_ctx' ? defaultNumCtx : null)),
    );
    return withModelLock(lm.name, async () => {
      const started = process.hrtime.bigint();
      let r = runners.get(lm.name);
      while (r?.stopping) {
        // A runner stuck "Stopping...": new requests wait for it, as with the real scheduler.
        if (aborted() || closed) throw new SimError(499, 'client disconnected');
        await sleep(25);
        r = runners.get(lm.name);
      }
      if (r && r.optionsKey === optionsKey && !r.unloading) {
        r.refCount++;
        if (r.timer) clearTimeout(r.timer);
        return { runner: r, loadNs: 300_000 + Math.floor(Math.random() * 700_000) };
      }
      if (r) await unload(r);
      r = await load(lm, options, optionsKey);
      return { runner: r, loadNs: Number(process.hrtime.bigint() - started) };
    });
  }

  function release(r: Runner, keepAliveMs: number | undefined): void {
    r.refCount = Math.max(0, r.refCount - 1);
    if (keepAliveMs !== undefined) r.sessionMs = keepAliveMs;
    armExpiry(r);
  }

  // ---------- HTTP helpers ----------
  function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
    if (res.headersSent) {
      if (!res.writableEnded) res.end(JSON.stringify(body) + '\n');
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(text),
    });
    res.end(res.req.method === 'HEAD' ? undefined : text);
  }
  const sendError = (res: http.ServerResponse, status: number, message: string) =>
    sendJson(res, status, { error: message });

  function startNdjson(res: http.ServerResponse): (obj: unknown) => void {
    if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
    return (obj) => {
      if (!res.writableEnded && !res.destroyed) res.write(JSON.stringify(obj) + '\n');
    };
  }

  function parseBody(raw: string): Record<string, unknown> {
    if (raw.trim() === '') throw new SimError(400, 'missing request body');
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch {
      const ch = raw.trim()[0] ?? '';
      throw new SimError(400, `invalid character '${ch}' looking for beginning of value`);
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v))
      throw new SimError(400, 'json: cannot unmarshal into Go value of type api.Request');
    return v as Record<string, unknown>;
  }

  function requireLocal(body: Record<string, unknown>, notFound: (raw: string) => string): LocalModel {
    const rawName = (body.model ?? body.name) as unknown;
    if (rawName === undefined || rawName === '') throw new SimError(400, 'model is required');
    const name = normalizeSimModelName(rawName);
    if (name === undefined) throw new SimError(400, 'invalid model name');
    const lm = local.get(name);
    if (!lm) throw new SimError(404, notFound(text(rawName)));
    return lm;
  }

  function detailsOf(lm: LocalModel) {
    return {
      parent_model: lm.parentModel,
      format: 'gguf',
      family: lm.model.family,
      families: lm.model.families,
      parameter_size: lm.model.parameterSize,
      quantization_level: lm.model.quantizationLevel,
    };
  }

  // ---------- generate / chat ----------
  async function handleInference(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    body: Record<string, unknown>,
    chat: boolean,
  ): Promise<void> {
    const keepAliveMs = parseKeepAlive(body.keep_alive);
    const lm = requireLocal(body, (n) => `model "${n}" not found, try pulling it first`);
    if (!lm.model.capabilities.includes('completion'))
      throw new SimError(400, `"${lm.name}" does not support ${chat ? 'chat' : 'generate'}`);
    const options = (typeof body.options === 'object' && body.options !== null ? body.options : {}) as Record<
      string,
      unknown
    >;
    const messages = Array.isArray(body.messages) ? (body.messages as Array<{ content?: unknown }>) : [];
    const prompt = chat ? messages.map((m) => text(m.content ?? '')).join('\n') : text(body.prompt ?? '');
    const empty = chat ? messages.length === 0 : prompt === '';
    const stream = body.stream !== false;
    const base = { model: String(body.model), created_at: '' };
    const emptyMessage = chat ? { message: { role: 'assistant', content: '' } } : { response: '' };

    if (faults.hangGenerate) {
      if (faults.hangGenerate === 'headers') {
        res.writeHead(200, { 'Content-Type': stream ? 'application/x-ndjson' : 'application/json; charset=utf-8' });
        res.flushHeaders();
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          hangRelease.off('release', done);
          res.off('close', done);
          resolve();
        };
        hangRelease.on('release', done);
        res.on('close', done);
      });
      if (res.destroyed || closed) return;
    }

    if (empty && keepAliveMs === 0) {
      const r = runners.get(lm.name);
      if (r) await withModelLock(lm.name, () => unload(r));
      sendJson(res, 200, { ...base, created_at: goNow(), ...emptyMessage, done: true, done_reason: 'unload' });
      return;
    }
    if (inFlight >= config.maxQueue) throw new SimError(503, MSG_BUSY);
    inFlight++;
    let runner: Runner | undefined;
    try {
      const acquired = await acquire(lm, options, () => res.destroyed);
      runner = acquired.runner;
      if (empty) {
        sendJson(res, 200, { ...base, created_at: goNow(), ...emptyMessage, done: true, done_reason: 'load' });
        return;
      }
      const numPredict = Number(options.num_predict ?? -1);
      const count = numPredict > 0 ? numPredict : 8 + (prompt.length % 17);
      // While ps lies the runner is not really on the GPU (lost device): it runs at CPU speed.
      const ratio = runner.size > 0 && !faults.psLie ? runner.sizeVram / runner.size : 0;
      const gpuTps = runner.model.gpuTokensPerSecond || 100;
      const cpuTps = Math.max(1, gpuTps / 20);
      const tps = 1 / (ratio / gpuTps + (1 - ratio) / cpuTps);
      const promptTokens = Math.max(1, prompt.split(/\s+/).filter(Boolean).length + 10);
      const offset = prompt.length % WORDS.length;
      const tokens = Array.from({ length: count }, (_, i) => (i === 0 ? '' : ' ') + WORDS[(offset + i) % WORDS.length]);
      const write = stream ? startNdjson(res) : undefined;
      for (const t of tokens) {
        if (res.destroyed || closed) return;
        if (write)
          write({
            ...base,
            created_at: goNow(),
            ...(chat ? { message: { role: 'assistant', content: t } } : { response: t }),
            done: false,
          });
        if (config.tokenDelayMs > 0) await sleep(config.tokenDelayMs);
      }
      const promptEvalNs = Math.round((promptTokens / (tps * 8)) * 1e9);
      const evalNs = Math.round((count / tps) * 1e9);
      const final = {
        ...base,
        created_at: goNow(),
        ...(stream
          ? emptyMessage
          : chat
            ? { message: { role: 'assistant', content: tokens.join('') } }
            : { response: tokens.join('') }),
        done: true,
        done_reason: numPredict > 0 ? 'length' : 'stop',
        ...(chat ? {} : { context: Array.from({ length: Math.min(16, promptTokens + count) }, (_, i) => 100 + i) }),
        total_duration: acquired.loadNs + promptEvalNs + evalNs + 250_000,
        load_duration: acquired.loadNs,
        prompt_eval_count: promptTokens,
        prompt_eval_duration: promptEvalNs,
        eval_count: count,
        eval_duration: evalNs,
      };
      if (write) {
        write(final);
        res.end();
      } else sendJson(res, 200, final);
    } finally {
      inFlight--;
      if (runner) release(runner, keepAliveMs);
    }
  }

  // ---------- pull ----------
  function pullFaultHit(bytes: number): PullFault | undefined {
    return pullFault && bytes >= pullFault.afterBytes ? pullFault : undefined;
  }

  function startPull(name: string): PullJob {
    const job: PullJob = { name, events: new EventEmitter(), subscribers: 0, aborted: false };
    pullJobs.set(name, job);
    const emit = (obj: Record<string, unknown>) => job.events.emit('line', obj);
    const tick = () => sleep(config.pullBytesPerSecond > 0 ? 50 : 2);
    void (async () => {
      let bytes = 0;
      try {
        await sleep(0); // let the first client subscribe before anything is emitted
        emit({ status: 'pulling manifest' });
        await tick();
        const model = findCatalogueModel(name) ?? (local.has(name) ? local.get(name)!.model : undefined);
        if (!model) {
          emit({ error: 'pull model manifest: file does not exist' });
          return;
        }
        const progress = pullProgress.get(name) ?? new Map<string, number>();
        pullProgress.set(name, progress);
        for (const layer of modelLayers(model)) {
          const status = `pulling ${layer.digest.slice(7, 19)}`;
          let done = local.has(name) ? layer.size : (progress.get(layer.digest) ?? 0);
          emit(
            done > 0
              ? { status, digest: layer.digest, total: layer.size, completed: done }
              : { status, digest: layer.digest, total: layer.size },
          );
          while (done < layer.size) {
            if (job.aborted || closed) return;
            const fault = pullFaultHit(bytes);
            if (fault?.mode === 'stall') {
              await sleep(20);
              continue;
            }
            if (fault?.mode === 'error') {
              const left = fault.count ?? 1;
              if (left <= 1) pullFault = null;
              else fault.count = left - 1;
              emit({ error: fault.message ?? 'max retries exceeded: EOF' });
              return;
            }
            let step =
              config.pullBytesPerSecond > 0 ? Math.ceil(config.pullBytesPerSecond / 20) : Math.ceil(layer.size / 4);
            step = Math.min(step, layer.size - done);
            if (pullFault && bytes < pullFault.afterBytes) step = Math.min(step, pullFault.afterBytes - bytes);
            done += step;
            bytes += step;
            progress.set(layer.digest, done);
            emit({ status, digest: layer.digest, total: layer.size, completed: done });
            await tick();
          }
        }
        for (const status of ['verifying sha256 digest', 'writing manifest', 'removing any unused layers']) {
          emit({ status });
          await tick();
        }
        pullProgress.delete(name);
        if (!local.has(name)) addLocal(name);
        emit({ status: 'success' });
      } finally {
        if (pullJobs.get(name) === job) pullJobs.delete(name);
        job.events.emit('end');
      }
    })();
    return job;
  }

  async function handlePull(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    body: Record<string, unknown>,
  ): Promise<void> {
    const raw = body.model ?? body.name;
    const name = normalizeSimModelName(raw);
    if (name === undefined) throw new SimError(400, 'invalid model name');
    const stream = body.stream !== false;
    // Concurrent pulls of one model share one transfer; each client sees its progress from when it joined.
    const existing = pullJobs.get(name);
    // An abandoned job is still winding down: a new client starts afresh (the bytes done so far are kept: resume).
    const job = existing && !existing.aborted ? existing : startPull(name);
    job.subscribers++;
    const write = stream ? startNdjson(res) : undefined;
    let last: Record<string, unknown> = {};
    await new Promise<void>((resolve) => {
      const onLine = (obj: Record<string, unknown>) => {
        last = obj;
        write?.(obj);
      };
      const finish = () => {
        job.events.off('line', onLine);
        job.events.off('end', finish);
        res.off('close', onClose);
        resolve();
      };
      const onClose = () => {
        if (res.writableEnded) return;
        job.subscribers--;
        if (job.subscribers <= 0) job.aborted = true; // the last client went away: the pull stops (and resumes later)
        finish();
      };
      job.events.on('line', onLine);
      job.events.once('end', finish);
      res.on('close', onClose);
    });
    if (res.destroyed) return;
    if (write) res.end();
    else if (typeof last.error === 'string') sendError(res, 500, last.error);
    else sendJson(res, 200, { status: 'success' });
  }

  // ---------- create / show / copy / delete / tags / ps ----------
  async function handleCreate(res: http.ServerResponse, body: Record<string, unknown>): Promise<void> {
    const target = normalizeSimModelName(body.model ?? body.name);
    if (body.model === undefined && body.name === undefined) throw new SimError(400, 'model is required');
    if (target === undefined) throw new SimError(400, 'invalid model name');
    if (body.from === undefined && body.files === undefined && body.modelfile === undefined) {
      throw new SimError(400, "neither 'from' or 'files' was specified");
    }
    const stream = body.stream !== false;
    const fromRaw = text(body.from ?? /^\s*FROM\s+(\S+)/im.exec(text(body.modelfile ?? ''))?.[1] ?? '');
    const fromName = normalizeSimModelName(fromRaw);
    const base = fromName ? local.get(fromName) : undefined;
    const lines: Array<Record<string, unknown>> = [];
    if (!base) {
      if (!stream) throw new SimError(404, `model '${fromRaw}' not found`);
      const write = startNdjson(res);
      write({ error: `model '${fromRaw}' not found` });
      res.end();
      return;
    }
    for (const l of modelLayers(base.model)) lines.push({ status: `using existing layer ${l.digest}` });
    const extra: Partial<LocalModel> = { parentModel: base.name };
    for (const key of ['system', 'template', 'parameters', 'license'] as const) {
      if (body[key] === undefined) continue;
      if (key === 'system' || key === 'template') extra[key] = text(body[key]);
      lines.push({ status: `creating new layer sha256:${sha256Hex(`${target}/${key}/${JSON.stringify(body[key])}`)}` });
    }
    lines.push({ status: 'writing manifest' }, { status: 'success' });
    addLocal(target, undefined, base, extra);
    if (!stream) {
      sendJson(res, 200, { status: 'success' });
      return;
    }
    const write = startNdjson(res);
    for (const l of lines) write(l);
    res.end();
  }

  function showBody(lm: LocalModel) {
    const arch = lm.model.family.replace(/-/g, '');
    return {
      license: 'LICENSE (simulated)',
      modelfile: `# Modelfile generated by "ollama show"\nFROM ${join(modelsDir, 'blobs', modelLayers(lm.model)[0]!.digest.replace(':', '-'))}\n`,
      parameters: 'stop                           "<|eot_id|>"',
      template: lm.template ?? '{{ .Prompt }}',
      ...(lm.system !== undefined ? { system: lm.system } : {}),
      details: detailsOf(lm),
      model_info: {
        'general.architecture': arch,
        'general.parameter_count': Math.round(
          parseFloat(lm.model.parameterSize) * (lm.model.parameterSize.endsWith('B') ? 1e9 : 1e6),
        ),
        'general.file_type': 2,
        [`${arch}.context_length`]: lm.model.maxContext,
      },
      capabilities: lm.model.capabilities,
      modified_at: formatGoTime(lm.modifiedAt),
    };
  }

  function psBody() {
    const list = [...runners.values()].map((r) => {
      const lm = local.get(r.name);
      return {
        name: r.name,
        model: r.name,
        size: r.size,
        size_vram: faults.psLie ? r.size : r.sizeVram,
        digest: r.digest,
        details: lm ? detailsOf(lm) : {},
        expires_at: formatGoTime(r.expiresAt, r.nsJitter),
        context_length: r.numCtx,
        _sortKey: r.expiresAt.getTime(),
      };
    });
    list.sort((a, b) => b._sortKey - a._sortKey);
    return { models: list.map(({ _sortKey, ...rest }) => rest) };
  }

  function tagsBody() {
    return {
      models: [...local.values()]
        .sort((a, b) => b.modifiedAt.getTime() - a.modifiedAt.getTime())
        .map((lm) => ({
          name: lm.name,
          model: lm.name,
          modified_at: formatGoTime(lm.modifiedAt),
          size: lm.model.size,
          digest: lm.digest,
          details: detailsOf(lm),
        })),
    };
  }

  // ---------- control API ----------
  function snapshot(): SimSnapshot {
    return {
      version,
      url: sim.url,
      executable: exeDir.executable,
      runners: [...runners.values()].map((r) => ({
        name: r.name,
        pid: r.proc?.pid,
        port: r.port,
        argv: r.argv,
        size: r.size,
        sizeVram: r.sizeVram,
        onGpu: r.onGpu,
        numCtx: r.numCtx,
        expiresAt: formatGoTime(r.expiresAt, r.nsJitter),
        loading: r.loading,
        stopping: r.stopping,
      })),
      localModels: [...local.keys()],
      config: { ...config },
      faults: { ...faults },
      forcedAnswers: forcedAnswers.map((f) => ({ ...f })),
      pullFault: pullFault ? { ...pullFault } : null,
      inFlight,
    };
  }

  async function handleControl(
    method: string,
    path: string,
    body: Record<string, unknown>,
    res: http.ServerResponse,
  ): Promise<void> {
    const modelArg = () => {
      const name = normalizeSimModelName(body.model ?? body.name);
      if (name === undefined) throw new SimError(400, 'model is required');
      return name;
    };
    const route = `${method} ${path}`;
    switch (route) {
      case 'GET /_sim/state':
        break;
      case 'GET /_sim/requests':
        sendJson(res, 200, { requests: requestLog });
        return;
      case 'DELETE /_sim/requests':
        requestLog.length = 0;
        break;
      case 'POST /_sim/config':
        for (const k of Object.keys(config) as Array<keyof SimConfig>) {
          if (k in body) (config as unknown as Record<string, unknown>)[k] = body[k];
        }
        break;
      case 'POST /_sim/faults': {
        const wasLie = faults.psLie;
        for (const k of Object.keys(faults) as Array<keyof SimFaults>) {
          if (k in body) (faults as unknown as Record<string, unknown>)[k] = body[k];
        }
        if (!faults.hangGenerate) {
          hangRelease.emit('release');
        }
        if ('containerGpuLost' in body)
          await editGpuState((s) => {
            s.containerNvmlLost = faults.containerGpuLost;
          });
        if (wasLie !== faults.psLie) await syncRunnerProcs();
        break;
      }
      case 'POST /_sim/fail': {
        const f = body as unknown as ForcedAnswer;
        if (typeof f.endpoint !== 'string' || typeof f.status !== 'number')
          throw new SimError(400, 'endpoint and status are required');
        forcedAnswers.push({
          endpoint: f.endpoint,
          status: f.status,
          ...(f.count !== undefined ? { count: f.count } : {}),
          ...(f.message !== undefined ? { message: f.message } : {}),
        });
        break;
      }
      case 'DELETE /_sim/fail':
        forcedAnswers = [];
        break;
      case 'POST /_sim/pull-fault': {
        const f = body as unknown as PullFault;
        if ((f.mode !== 'error' && f.mode !== 'stall') || typeof f.afterBytes !== 'number')
          throw new SimError(400, 'mode (error|stall) and afterBytes are required');
        pullFault = { ...f };
        break;
      }
      case 'DELETE /_sim/pull-fault':
        pullFault = null;
        break;
      case 'POST /_sim/expire': {
        const r = runners.get(modelArg());
        if (!r) throw new SimError(404, 'model not loaded');
        await withModelLock(r.name, () => unload(r));
        break;
      }
      case 'POST /_sim/stopping': {
        const r = runners.get(modelArg());
        if (!r) throw new SimError(404, 'model not loaded');
        if (body.enabled === false) {
          r.stopping = false;
          await unload(r);
        } else {
          r.stopping = true;
          if (r.timer) clearTimeout(r.timer);
          r.expiresAt = new Date(Date.now() - 1000);
        }
        break;
      }
      case 'POST /_sim/models':
        addLocal(text(body.name ?? body.model ?? ''), typeof body.size === 'number' ? body.size : undefined);
        break;
      case 'DELETE /_sim/models':
        local.delete(modelArg());
        break;
      case 'POST /_sim/discovery': {
        const ms = typeof body.durationMs === 'number' && body.durationMs > 0 ? body.durationMs : 1000;
        sendJson(res, 200, { ...snapshot(), discoveryPids: await runDiscovery(Math.min(ms, 600_000)).pids });
        return;
      }
      case 'POST /_sim/reset':
        Object.assign(faults, {
          cpuFallback: false,
          psLie: false,
          hangGenerate: false,
          oomOnLoad: 0,
          flakyConnections: 0,
        });
        if (faults.containerGpuLost) {
          faults.containerGpuLost = false;
          await editGpuState((s) => {
            s.containerNvmlLost = false;
          });
        }
        hangRelease.emit('release');
        forcedAnswers = [];
        pullFault = null;
        await syncRunnerProcs();
        break;
      default:
        throw new SimError(404, `no control route ${route}`);
    }
    sendJson(res, 200, snapshot());
  }

  // ---------- dispatch ----------
  function takeForced(path: string): ForcedAnswer | undefined {
    const f = forcedAnswers.find(
      (x) => x.endpoint === path || (x.endpoint === '*' && (path === '/' || path.startsWith('/api/'))),
    );
    if (!f) return undefined;
    if (f.count !== undefined) {
      f.count--;
      if (f.count <= 0) forcedAnswers = forcedAnswers.filter((x) => x !== f);
    }
    return f;
  }

  function defaultForcedMessage(status: number, body: Record<string, unknown>): string {
    if (status === 404) return `model "${text(body.model ?? body.name ?? '')}" not found, try pulling it first`;
    if (status === 503) return MSG_BUSY;
    if (status === 500) return 'llama runner process has terminated: exit status 2';
    return http.STATUS_CODES[status] ?? 'error';
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, raw: string): Promise<void> {
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://sim').pathname;
    if (path.startsWith('/_sim/')) {
      if (opts.controlToken && req.headers.authorization !== `Bearer ${opts.controlToken}`) {
        sendError(res, 401, 'unauthorized');
        return;
      }
      const body = raw.trim() === '' ? {} : parseBody(raw);
      await handleControl(method, path, body, res);
      return;
    }
    let logged: unknown;
    if (raw !== '') {
      try {
        logged = JSON.parse(raw);
      } catch {
        logged = raw;
      }
    }
    requestLog.push({ at: new Date().toISOString(), method, path, body: logged });
    if (requestLog.length > 2000) requestLog.shift();

    const forced = takeForced(path);
    if (forced) {
      const body = typeof logged === 'object' && logged !== null ? (logged as Record<string, unknown>) : {};
      sendError(res, forced.status, forced.message ?? defaultForcedMessage(forced.status, body));
      return;
    }
    const getLike = method === 'GET' || method === 'HEAD';
    if (getLike && path === '/') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 17 });
      res.end(method === 'HEAD' ? undefined : 'Ollama is running');
      return;
    }
    if (getLike && path === '/api/version') return sendJson(res, 200, { version });
    if (getLike && path === '/api/tags') return sendJson(res, 200, tagsBody());
    if (getLike && path === '/api/ps') return sendJson(res, 200, psBody());
    const route = `${method} ${path}`;
    switch (route) {
      case 'POST /api/generate':
        return handleInference(req, res, parseBody(raw), false);
      case 'POST /api/chat':
        return handleInference(req, res, parseBody(raw), true);
      case 'POST /api/pull':
        return handlePull(req, res, parseBody(raw));
      case 'POST /api/create':
        return handleCreate(res, parseBody(raw));
      case 'POST /api/show': {
        const lm = requireLocal(parseBody(raw), (n) => `model '${n}' not found`);
        return sendJson(res, 200, showBody(lm));
      }
      case 'DELETE /api/delete': {
        const lm = requireLocal(parseBody(raw), (n) => `model '${n}' not found`);
        local.delete(lm.name);
        res.writeHead(200, { 'Content-Length': 0 });
        res.end();
        return;
      }
      case 'POST /api/copy': {
        const body = parseBody(raw);
        if (!body.source || !body.destination) throw new SimError(400, 'source and destination are required');
        const src = requireLocal({ model: body.source }, (n) => `model '${n}' not found`);
        addLocal(text(body.destination), undefined, src, {
          template: src.template,
          system: src.system,
          parentModel: src.parentModel,
        });
        res.writeHead(200, { 'Content-Length': 0 });
        res.end();
        return;
      }
      default:
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        res.end('404 page not found');
    }
  }

  const server = http.createServer((req, res) => {
    // Flaky network: drop the connection under the next N API requests (pooled keep-alive sockets included).
    if (faults.flakyConnections > 0 && !(req.url ?? '').startsWith('/_sim/')) {
      faults.flakyConnections--;
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks).toString('utf8')).catch((err: unknown) => {
        if (err instanceof SimError) {
          if (err.status === 499) {
            res.destroy();
            return;
          }
          sendError(res, err.status, err.message);
        } else {
          log(`internal error: ${(err as Error).stack ?? String(err)}`);
          sendError(res, 500, (err as Error).message);
        }
      });
    });
  });

  if (opts.startDelayMs && opts.startDelayMs > 0) await sleep(opts.startDelayMs);
  // server/routes.go Serve: GPUDevices (discovery processes) runs before the server accepts requests.
  const startupDiscoveryMs = opts.startupDiscoveryMs ?? (runnerKind === 'llama-server' ? 200 : 0);
  if (startupDiscoveryMs > 0) await runDiscovery(startupDiscoveryMs).exited;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const url = `http://${urlHost}:${port}`;

  const sim: OllamaSim = {
    url,
    host,
    port,
    control: new SimControl(url, opts.controlToken),
    executableDir: exeDir.dir,
    snapshot,
    async close() {
      if (closed) return;
      closed = true;
      for (const job of pullJobs.values()) job.aborted = true;
      hangRelease.emit('release');
      hangRelease = new EventEmitter();
      const serverClosed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await Promise.all([...runners.values()].map((r) => unload(r)));
      for (const d of discoveryRuns) d.kill();
      await Promise.all([...discoveryRuns].map((d) => d.exited));
      await serverClosed;
      if (faults.containerGpuLost)
        await editGpuState((s) => {
          s.containerNvmlLost = false;
        }).catch(() => {});
      rmSync(tempDir, { recursive: true, force: true });
    },
  };
  return sim;
}

/** A request field as text: strings as they are, anything else (a client's mistake) as JSON, never "[object Object]". */
function text(v: unknown): string {
  return typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v));
}
