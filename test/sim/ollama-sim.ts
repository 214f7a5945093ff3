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
import { formatGoTime, parseGoDuration } from './go-duration.js';
import { createHostPidMap } from './host-pid-map.js';
import { memoryFreeMiB, readGpuState, updateGpuState, defaultH100State, type GpuState } from './gpu-state.js';
import {
  CaseFoldMap,
  findCatalogueModel,
  genericModel,
  modelLayers,
  normalizeSimModelName,
  sha256Hex,
  type CatalogueModel,
} from './model-catalogue.js';
import { prepareOllamaExecutableDir } from './prepare-ollama-executable-dir.js';
import { defaultContextLength, nextLowerAutoNumCtx, simProfile } from './sim-profile.js';
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
  type RunnerActivity,
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
  /** Reported by /api/version; also selects the behaviour profile (sim-profile.ts; README "Version profiles"). */
  version?: string;
  /** Like OLLAMA_KEEP_ALIVE (Go duration or seconds; negative = forever). Default "5m". */
  defaultKeepAlive?: string | number;
  /**
   * Like OLLAMA_CONTEXT_LENGTH: num_ctx when a request sets none. Unset: 4096, or from 0.15.5 on 4k/32k/256k by the
   * GPU state's total VRAM (then "automatic": never forces a reload against another automatic request).
   */
  defaultNumCtx?: number;
  /** Extra time a load takes after the runner answers (VRAM grows in steps meanwhile). Default 20 ms. */
  loadDelayMs?: number;
  /**
   * Like OLLAMA_LOAD_TIMEOUT (envconfig.LoadTimeout: Go duration, else whole seconds; zero or negative = none,
   * unparsable = the default): a load with no progress for this long fails. Default "5m".
   */
  loadTimeout?: string;
  /** Like OLLAMA_NUM_PARALLEL: slots per runner. Default 1. */
  numParallel?: number;
  /** 0 (default) = fast: every layer in a few steps, a whole model in well under a second. */
  pullBytesPerSecond?: number;
  /** The host's /proc when the simulator runs in a PID namespace of its own (a Swarm task): the GPU state then names
   * runners by host PID, as the driver does (host-pid-map.ts). */
  hostProc?: string;
  /** Wall-clock delay between streamed tokens. Default 0. */
  tokenDelayMs?: number;
  /** Like OLLAMA_MAX_QUEUE: requests waiting for a load beyond this get 503. Default 512. */
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
  /** Runner options other than num_ctx (a difference forces a reload, sched.go needsReload). */
  optionsKey: string;
  numCtx: number;
  /** num_ctx came from the default: another default-context request never forces a reload (needsReload). */
  numCtxAuto: boolean;
  size: number;
  sizeVram: number;
  onGpu: boolean;
  /** ms; Infinity = forever; 0 = unload when idle. */
  sessionMs: number;
  /** null while the first load runs: /api/ps then estimates now + session (sched.go loadedModels / PsHandler). */
  expiresAt: Date | null;
  timer: NodeJS.Timeout | undefined;
  refCount: number;
  loading: boolean;
  stopping: boolean;
  unloading: boolean;
  slots: number;
  busySlots: number;
  slotWaiters: Array<() => void>;
  /** Requests generating / hung / spinning on it now (they decide `activity`). */
  generating: number;
  hung: number;
  spinning: number;
  activity: RunnerActivity;
  /** VRAM (MiB) its process holds now: grows during the load. */
  vramNowMiB: number;
  /** Its process died while loaded (crash): listed until expiry or the next request reloads it. */
  dead: boolean;
  /** Resolves when its load finished (or failed). */
  loadDone: Promise<void>;
  /** Sub-millisecond digits for expires_at, so it reads like Go's nanosecond times. */
  nsJitter: number;
  /** Words of the last prompt it evaluated: its KV cache prefix. */
  promptCache: readonly string[];
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
/** A request whose runner died under it (not verified against a real server's exact text). */
const RUNNER_GONE = 'llama runner process has terminated: signal: killed';
/** Paths the sim serves and their methods (server/routes.go GenerateRoutes). */
const ROUTE_METHODS: Record<string, string[]> = {
  '/': ['GET', 'HEAD'],
  '/api/version': ['GET', 'HEAD'],
  '/api/tags': ['GET', 'HEAD'],
  '/api/ps': ['GET'],
  '/api/generate': ['POST'],
  '/api/chat': ['POST'],
  '/api/pull': ['POST'],
  '/api/create': ['POST'],
  '/api/show': ['POST'],
  '/api/copy': ['POST'],
  '/api/delete': ['DELETE'],
};
const RUNNER_OPTIONS = ['num_batch', 'num_gpu', 'main_gpu', 'use_mmap', 'num_thread'];
/** Steps in which a load's VRAM grows to its final size (real runners allocate progressively). */
const LOAD_STEPS = 5;
/** util_gpu_pct the sim writes while runners generate (only over a GPU the test left at 0), shared out among them. */
const BUSY_GPU_UTIL_PCT = 93;
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

/** envconfig.LoadTimeout (0.12 and 0.33 alike): Go duration, else whole seconds; <= 0 = none; default 5 min. */
export function parseLoadTimeout(value: string | undefined): number {
  let ms = 5 * 60_000;
  if (value) {
    try {
      ms = parseGoDuration(value);
    } catch {
      if (/^[-+]?\d+$/.test(value)) ms = Number(value) * 1000;
    }
  }
  return ms <= 0 ? Infinity : ms;
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
  const profile = simProfile(version);
  const log = opts.log ?? (() => {});
  const tempDir = mkdtempSync(join(tmpdir(), 'ollama-sim-'));
  const exeDir = prepareOllamaExecutableDir(opts.executableDir ?? join(tempDir, 'bin'));
  const pidMap = createHostPidMap(opts.hostProc);
  const runnerKind = runnerKindForVersion(version);
  const discoveryRuns = new Set<SimDiscoveryRun>();
  const modelsDir = join(tempDir, 'models');
  const defaultKeepAliveMs = parseKeepAlive(opts.defaultKeepAlive ?? '5m')!;
  const loadTimeoutMs = parseLoadTimeout(opts.loadTimeout);
  // Like OLLAMA_CONTEXT_LENGTH: a set value is never "automatic" (routes.go usesAutomaticNumCtx); unset, Serve picks
  // it once at start from the total VRAM (0.15.5+), so read the GPU state here.
  const defaultNumCtxAuto = opts.defaultNumCtx === undefined;
  let defaultNumCtx = opts.defaultNumCtx ?? 4096;

  const config: SimConfig = {
    loadDelayMs: opts.loadDelayMs ?? 20,
    numParallel: opts.numParallel ?? 1,
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
    spinGenerate: false,
    stallLoad: false,
    oomOnLoad: 0,
    oomOnGenerate: 0,
    oomText: null,
    containerGpuLost: false,
    flakyConnections: 0,
  };
  let forcedAnswers: ForcedAnswer[] = [];
  let pullFault: PullFault | null = null;
  const requestLog: LoggedRequest[] = [];
  // Names compare case-insensitively and keep the case they were stored with (getExistingName).
  const local = new CaseFoldMap<LocalModel>();
  const runners = new CaseFoldMap<Runner>();
  const pullProgress = new CaseFoldMap<Map<string, number>>();
  const pullJobs = new CaseFoldMap<PullJob>();
  const modelLocks = new Map<string, Promise<unknown>>();
  /** The scheduler's pending loop: one load at a time (sched.go processPending). */
  let schedChain: Promise<unknown> = Promise.resolve();
  /** Requests in the pending queue (pendingReqCh, capacity maxQueue). */
  let loadQueue = 0;
  /** Whether the sim raised the GPU's util_gpu_pct (so it only lowers what it raised). */
  let raisedGpuUtil = false;
  /** Resolved when a hung generate may go on (fault cleared) or the sim closes. */
  let hangRelease = new EventEmitter();
  let inFlight = 0;
  let closed = false;

  function addLocal(rawName: string, size?: number, base?: LocalModel, extra: Partial<LocalModel> = {}): LocalModel {
    const given = normalizeSimModelName(rawName);
    if (given === undefined) throw new SimError(400, 'invalid model name');
    const name = local.get(given)?.name ?? given; // an existing name keeps its stored case
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
  /**
   * Writes each live runner's `proc` line (its VRAM so far; a dead runner's memory is freed by the driver) and the
   * GPU's util_gpu_pct: raised while any runner generates or spins, back to 0 when none does (only if the sim raised
   * it, so a test's own value stays).
   */
  async function syncRunnerProcs(): Promise<void> {
    const all = [...runners.values()];
    const ours = all.filter(
      (r) => r.onGpu && !r.dead && r.proc?.pid !== undefined && r.vramNowMiB > 0 && !faults.psLie,
    );
    const hostPid = new Map(all.map((r) => [r, r.proc?.pid === undefined ? undefined : pidMap.toHost(r.proc.pid)]));
    const pids = new Set(hostPid.values());
    // Each runner on the GPU at work (generating or spinning) keeps its share of the SMs busy; idle, hung, loading
    // or on the CPU: none.
    const working = ours.filter((r) => r.activity === 'generating' || r.activity === 'spinning');
    const busy = working.length > 0;
    const share = busy ? Math.floor(BUSY_GPU_UTIL_PCT / working.length) : 0;
    await editGpuState((s) => {
      const gpu = s.gpus.find((g) => !g.lost) ?? s.gpus[0];
      // nvidia-smi names a process by its executable: `<dir>/ollama` (0.12) or `<dir>/lib/ollama/llama-server` (0.30+).
      const exes = new Set([
        exeDir.executable,
        join(exeDir.dir, 'lib', 'ollama', 'llama-server'),
        ...all.map((r) => r.argv[0]),
      ]);
      s.procs = s.procs.filter((p) => !(exes.has(p.name) && (pids.has(p.pid) || !pidMap.alive(p.pid))));
      if (!gpu) return;
      for (const r of ours) {
        const pid = hostPid.get(r);
        if (pid === undefined) continue; // gone meanwhile
        s.procs.push({
          gpuUuid: gpu.uuid,
          pid,
          usedMiB: r.vramNowMiB,
          name: r.argv[0] ?? exeDir.executable,
          ...(working.includes(r) ? { smPct: share } : {}),
        });
      }
      if (busy && (gpu.utilizationGpuPct === 0 || raisedGpuUtil)) {
        gpu.utilizationGpuPct = share * working.length;
        raisedGpuUtil = true;
      } else if (!busy && raisedGpuUtil) {
        gpu.utilizationGpuPct = 0;
        raisedGpuUtil = false;
      }
    });
  }

  /** Tells the runner process what it does (sim-runner.ts handles it; older handles ignore it) and the GPU state. */
  function setActivity(r: Runner, activity: RunnerActivity): void {
    if (r.activity === activity) return;
    r.activity = activity;
    void r.handle?.setActivity(activity);
    if (!closed) void syncRunnerProcs().catch(() => {});
  }

  function refreshActivity(r: Runner): void {
    if (r.loading || r.dead || r.unloading) return;
    setActivity(r, r.spinning > 0 ? 'spinning' : r.hung > 0 ? 'hung' : r.generating > 0 ? 'generating' : 'idle');
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
  if (defaultNumCtxAuto) {
    const state = readState();
    defaultNumCtx = defaultContextLength(
      profile,
      state.gpus.filter((g) => !g.lost).reduce((sum, g) => sum + g.memoryTotalMiB, 0),
    );
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
    const gpuPid = proc?.pid === undefined ? undefined : pidMap.toHost(proc.pid);
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise<void>((res) => proc.once('exit', () => res()));
      proc.kill('SIGTERM');
      const killTimer = setTimeout(() => proc.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(killTimer);
    }
    await editGpuState((s) => {
      s.procs = s.procs.filter((p) => p.pid !== gpuPid);
    });
    log(`unloaded ${r.name}`);
  }

  function footprint(m: CatalogueModel, numCtx: number, slots: number): number {
    // The KV cache holds num_ctx per slot (0.12.6 llm/server.go KvSize = NumCtx * numParallel; 0.33 -c ctx*np).
    return m.size + m.kvBytesPerToken * numCtx * slots + 256 * MIB;
  }

  /** What a request needs from a runner. numCtx is the model-capped value. */
  interface Want {
    options: Record<string, unknown>;
    optionsKey: string;
    numCtx: number;
    numCtxAuto: boolean;
    keepAliveMs: number | undefined;
  }

  function wantOf(lm: LocalModel, options: Record<string, unknown>, keepAliveMs: number | undefined): Want {
    const requested = Number(options.num_ctx);
    const numCtxAuto = options.num_ctx === undefined && defaultNumCtxAuto;
    const raw =
      options.num_ctx !== undefined && Number.isFinite(requested) && requested > 0 ? requested : defaultNumCtx;
    return {
      options,
      optionsKey: JSON.stringify(RUNNER_OPTIONS.map((k) => options[k] ?? null)),
      numCtx: Math.max(4, Math.min(raw, lm.model.maxContext || raw)),
      numCtxAuto,
      keepAliveMs,
    };
  }

  /** sched.go needsReload: different runner options (num_ctx unless both automatic), or a runner that does not answer. */
  function needsReload(r: Runner, want: Want): boolean {
    if (r.dead || r.unloading) return true;
    if (r.optionsKey !== want.optionsKey) return true;
    return !(r.numCtxAuto && want.numCtxAuto) && r.numCtx !== want.numCtx;
  }

  class SimOomError extends SimError {}

  function tellProc(r: Runner, activity: RunnerActivity): void {
    void r.handle?.setActivity(activity);
  }

  /** The runner process died by itself (crash, OOM kill): Ollama keeps the entry until expiry or the next request. */
  function runnerDied(r: Runner): void {
    if (r.dead) return;
    r.dead = true;
    r.activity = 'idle';
    log(`runner ${r.name} died; still listed until expiry or the next request`);
    hangRelease.emit('release'); // requests hung on it fail now
    for (const wake of r.slotWaiters.splice(0)) wake();
    if (!closed) void syncRunnerProcs().catch(() => {});
  }

  /** An out-of-memory while `r` generates (see SimProfile.expiresAllOnRuntimeOom). */
  function runtimeOutOfMemory(r: Runner): void {
    if (!profile.expiresAllOnRuntimeOom) {
      runnerDied(r);
      r.proc?.kill('SIGKILL');
      return;
    }
    log('runtime out of memory: expiring every loaded runner');
    for (const o of runners.values()) {
      o.sessionMs = 0;
      if (o.timer) clearTimeout(o.timer);
      o.timer = undefined;
      if (o.refCount <= 0 && !o.loading) void withModelLock(o.name, () => unload(o));
    }
  }

  /**
   * The load itself: VRAM grows in LOAD_STEPS steps over loadDelayMs; stallLoad freezes it. Like WaitUntilRunning
   * (0.12 llm/server.go, 0.30+ llm/llama_server.go), it gives up when the request that started it goes away (the
   * load is bound to that request's context) and when it makes no progress for OLLAMA_LOAD_TIMEOUT.
   */
  async function loadProgress(r: Runner, vramMiB: number, aborted: () => boolean): Promise<void> {
    if (r.activity !== 'hung') tellProc(r, 'loading'); // a runner started still (stalled from the start) stays so
    let lastProgress = Date.now();
    const giveUp = (step: number): void => {
      if (aborted()) {
        log(
          runnerKind === 'llama-server'
            ? 'client connection closed before llama-server finished loading, aborting load'
            : 'client connection closed before server finished loading, aborting load',
        );
        throw new SimError(499, 'client disconnected');
      }
      if (Date.now() - lastProgress <= loadTimeoutMs) return;
      throw new SimError(
        500,
        runnerKind === 'llama-server'
          ? 'timed out waiting for llama-server to start - '
          : `timed out waiting for llama runner to start - progress ${((step - 1) / LOAD_STEPS).toFixed(2)} - `,
      );
    };
    for (let i = 1; i <= LOAD_STEPS; i++) {
      while (faults.stallLoad && !closed && !r.unloading && !r.dead) {
        setActivity(r, 'hung');
        giveUp(i);
        await sleep(20);
      }
      if (closed || r.unloading || r.dead) return;
      giveUp(i);
      setActivity(r, 'loading');
      await sleep(config.loadDelayMs / LOAD_STEPS);
      lastProgress = Date.now();
      r.vramNowMiB = Math.round((vramMiB * i) / LOAD_STEPS);
      if (r.onGpu) await syncRunnerProcs();
    }
  }

  async function load(lm: LocalModel, want: Want, aborted: () => boolean): Promise<Runner> {
    if (closed) throw new SimError(499, 'server shutting down');
    if (faults.oomOnLoad !== 0) {
      if (faults.oomOnLoad > 0) faults.oomOnLoad--;
      throw new SimOomError(500, faults.oomText ?? profile.oomText);
    }
    const options = want.options;
    const numCtx = want.numCtx;
    // sched.go load: embedding models always get one slot.
    const slots = lm.model.capabilities.includes('completion') ? Math.max(1, Math.floor(config.numParallel)) : 1;
    const size = footprint(lm.model, numCtx, slots);
    const sizeMiB = Math.ceil(size / MIB);
    let vramMiB: number;
    if (faults.cpuFallback || options.num_gpu === 0) vramMiB = 0;
    else if (config.partialOffloadRatio !== null)
      vramMiB = Math.floor(sizeMiB * Math.min(1, Math.max(0, config.partialOffloadRatio)));
    else {
      // Like the scheduler (sched.go processPending: load with requireFull while others are loaded, ErrLoadRequiredFull,
      // findRunnerToUnload, then wait on unloadedCh): while other runners are loaded, a model that does not fit
      // whole evicts one (an idle one first, shortest keep_alive first; a busy one once its requests end) and tries
      // again. Only a model alone on the GPU settles for a partial offload.
      for (;;) {
        if (availableVramMiB() >= sizeMiB) break;
        const others = [...runners.values()]
          .filter((o) => !o.loading && !o.stopping)
          .sort((a, b) => a.sessionMs - b.sessionMs);
        const victim = others.find((o) => o.refCount <= 0) ?? others[0];
        if (!victim) break;
        log(`${lm.name} does not fit beside ${victim.name}: evicting it`);
        await expireAndWait(victim, () => closed);
      }
      const avail = availableVramMiB();
      vramMiB = avail >= sizeMiB ? sizeMiB : avail > 1024 ? avail - 512 : 0;
    }
    let loadFinished!: () => void;
    const loadDone = new Promise<void>((res) => (loadFinished = res));
    const port = await freePort('127.0.0.1');
    const blob = join(modelsDir, 'blobs', modelLayers(lm.model)[0]!.digest.replace(':', '-'));
    const runnerOpts: SimRunnerOptions = {
      runnerKind,
      executableDir: exeDir.dir,
      modelPath: blob,
      port,
      parallel: slots,
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
      optionsKey: want.optionsKey,
      numCtx,
      numCtxAuto: want.numCtxAuto,
      size,
      sizeVram: vramMiB === sizeMiB ? size : vramMiB * MIB,
      onGpu: vramMiB > 0,
      sessionMs: want.keepAliveMs ?? defaultKeepAliveMs,
      expiresAt: null,
      timer: undefined,
      refCount: 0,
      loading: true,
      stopping: false,
      unloading: false,
      slots,
      busySlots: 0,
      slotWaiters: [],
      generating: 0,
      hung: 0,
      spinning: 0,
      activity: 'loading',
      vramNowMiB: 0,
      dead: false,
      loadDone,
      nsJitter: Math.floor(Math.random() * 1_000_000),
      promptCache: [],
    };
    // With no runner on the GPU to ask, the scheduler's GPU refresh runs discovery processes before a load
    // (server/sched.go processPending -> discover/runner.go GPUDevices, bootstrap with a 3 s timeout).
    if (runnerKind === 'llama-server' && options.num_gpu !== 0 && ![...runners.values()].some((o) => o.onGpu))
      await runDiscovery(LOAD_DISCOVERY_MS).exited;
    runners.set(lm.name, r);
    // A load already stalled as it begins (stuck opening its model: a hung mount, a stuck driver call) never works,
    // so its runner starts still: the 0.12 fake runner is a Node process whose heap hands MiBs back seconds after
    // any work, which the exporter rightly counts as progress, and a runner that never worked has nothing to hand back.
    if (faults.stallLoad) r.activity = 'hung';
    const handle = startSimRunner({ ...runnerOpts, initialActivity: r.activity });
    const proc = handle.child;
    r.proc = proc;
    r.handle = handle;
    proc.on('exit', (code, signal) => {
      log(`runner ${lm.name} pid ${proc.pid} exited (${code ?? signal})`);
      if (!r.unloading) runnerDied(r); // crashed or killed from outside: the scheduler keeps listing it
    });
    try {
      await handle.ready.catch(() => {
        throw new SimError(500, `llama runner process has terminated: exit status ${proc.exitCode ?? 1}`);
      });
      await loadProgress(r, vramMiB, aborted);
      if (r.unloading || r.dead) throw new SimError(500, 'llama runner process has terminated: exit status 1');
    } catch (err) {
      r.refCount = 0;
      loadFinished();
      await unload(r);
      throw err;
    }
    r.loading = false;
    r.refCount = 1; // the loading request's reference (sched.go: refCount++ after WaitUntilRunning)
    r.vramNowMiB = Math.round(r.sizeVram / MIB);
    refreshActivity(r);
    // Ollama reports a model loaded only once its runner's /health says so (WaitUntilRunning): let it arrive.
    await r.handle?.setActivity(r.activity);
    loadFinished();
    await syncRunnerProcs();
    log(`loaded ${lm.name} pid ${proc.pid} size ${size} size_vram ${r.sizeVram}`);
    return r;
  }

  /** sched.go useLoadedRunner: a reference, the expiry timer stopped (expires_at frozen), keep_alive taken. */
  function useRunner(r: Runner, keepAliveMs: number | undefined): void {
    r.refCount++;
    if (r.timer) clearTimeout(r.timer);
    r.timer = undefined;
    if (keepAliveMs !== undefined) r.sessionMs = keepAliveMs;
  }

  /** Waits until r is gone from the runner list (its last request finished with keep_alive 0). */
  async function waitGone(r: Runner, aborted: () => boolean): Promise<void> {
    while (runners.get(r.name) === r && !r.unloading) {
      if (aborted() || closed) throw new SimError(499, 'client disconnected');
      await sleep(10);
    }
  }

  /** Expires a runner as the scheduler does to make room: unload now when idle, else when its last request ends. */
  async function expireAndWait(r: Runner, aborted: () => boolean): Promise<void> {
    r.sessionMs = 0;
    if (r.timer) clearTimeout(r.timer);
    r.timer = undefined;
    if (r.refCount <= 0) await unload(r);
    else await waitGone(r, aborted);
  }

  /** sched.go processPending for one request: reuse, or expire the old runner and load (one load at a time). */
  async function processPending(
    lm: LocalModel,
    wantIn: Want,
    aborted: () => boolean,
  ): Promise<{ runner: Runner; loadNs: number }> {
    const started = process.hrtime.bigint();
    let want = wantIn;
    let oomRetried = false;
    for (;;) {
      if (aborted() || closed) throw new SimError(499, 'client disconnected');
      const r = runners.get(lm.name);
      if (r?.stopping) {
        // A runner stuck "Stopping...": new requests wait for it, as with the real scheduler.
        await sleep(25);
        continue;
      }
      if (r && !r.loading && !needsReload(r, want)) {
        useRunner(r, want.keepAliveMs);
        return { runner: r, loadNs: Number(process.hrtime.bigint() - started) };
      }
      if (r) {
        await expireAndWait(r, aborted);
        continue;
      }
      try {
        const loaded = await load(lm, want, aborted);
        return { runner: loaded, loadNs: Number(process.hrtime.bigint() - started) };
      } catch (err) {
        // 0.30+ (sched.go load / processPending): an OOM load is retried once, with a smaller automatic context
        // and, when other models are loaded, after evicting all of them (pinned ones included).
        if (!(err instanceof SimOomError) || profile.name !== '0.33' || oomRetried) throw err;
        const lower = want.numCtxAuto ? nextLowerAutoNumCtx(want.numCtx) : undefined;
        const others = [...runners.values()].filter((o) => o.name !== lm.name);
        if (lower === undefined && others.length === 0) throw err;
        oomRetried = true;
        log(`load of ${lm.name} ran out of memory; retrying once (num_ctx ${lower ?? want.numCtx})`);
        if (lower !== undefined) want = { ...want, numCtx: lower };
        await Promise.all(others.map((o) => expireAndWait(o, aborted)));
      }
    }
  }

  /**
   * Gets (or loads) the runner for a request and takes a reference on it (sched.go getRunner). A usable loaded
   * runner is taken at once, however busy; otherwise the request joins the pending queue, 503 when it is full.
   */
  async function acquire(
    lm: LocalModel,
    want: Want,
    aborted: () => boolean,
  ): Promise<{ runner: Runner; loadNs: number }> {
    const r = runners.get(lm.name);
    if (r && !r.stopping && !needsReload(r, want)) {
      // 0.12 lists a loading runner and a request for it waits on its lock (needsReload); 0.30+ does not know it yet.
      if (r.loading && profile.listsLoadingModels) {
        const started = process.hrtime.bigint();
        await r.loadDone;
        if (runners.get(lm.name) === r && !r.loading && !needsReload(r, want)) {
          useRunner(r, want.keepAliveMs);
          return { runner: r, loadNs: Number(process.hrtime.bigint() - started) };
        }
      } else if (!r.loading) {
        useRunner(r, want.keepAliveMs);
        return { runner: r, loadNs: 300_000 + Math.floor(Math.random() * 700_000) };
      }
    }
    if (loadQueue >= config.maxQueue) throw new SimError(503, MSG_BUSY);
    loadQueue++;
    let dequeued = false;
    const next = schedChain.then(() => {
      dequeued = true;
      loadQueue--;
      return processPending(lm, want, aborted);
    });
    schedChain = next.catch(() => {});
    try {
      return await next;
    } finally {
      if (!dequeued) loadQueue--;
    }
  }

  function release(r: Runner): void {
    r.refCount = Math.max(0, r.refCount - 1);
    armExpiry(r);
  }

  /** Waits (without limit, until the client leaves) for one of the runner's slots (llm server sem.Acquire). */
  async function takeSlot(r: Runner, res: http.ServerResponse): Promise<void> {
    if (r.busySlots < r.slots) {
      r.busySlots++;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const wake = () => {
        res.off('close', gone);
        resolve();
      };
      const gone = () => {
        r.slotWaiters = r.slotWaiters.filter((w) => w !== wake);
        reject(new SimError(499, 'client disconnected'));
      };
      r.slotWaiters.push(wake);
      res.once('close', gone);
    });
  }

  function freeSlot(r: Runner): void {
    const next = r.slotWaiters.shift();
    if (next)
      next(); // hand the slot over
    else r.busySlots = Math.max(0, r.busySlots - 1);
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
    const rawModel = body.model ?? body.name;
    if (typeof rawModel === 'string' && rawModel !== '' && normalizeSimModelName(rawModel) === undefined) {
      // e.g. `name@sha256:…`: 0.12.6 GenerateHandler answers 404, 0.33 writeModelRefParseError 400.
      if (profile.invalidNameStatus === 404) throw new SimError(404, `model '${rawModel}' not found`);
      throw new SimError(400, 'invalid model name');
    }
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

    if (empty && keepAliveMs === 0) {
      // routes.go → sched.go expireRunner: answers at once; the unload happens when the last request on the runner
      // finishes (processCompleted sees sessionDuration 0). expires_at reads "now" meanwhile.
      const r = runners.get(lm.name);
      if (r && !r.loading) {
        r.expiresAt = new Date();
        r.sessionMs = 0;
        if (r.timer) clearTimeout(r.timer);
        r.timer = undefined;
        if (r.refCount <= 0) void withModelLock(r.name, () => unload(r));
      }
      sendJson(res, 200, { ...base, created_at: goNow(), ...emptyMessage, done: true, done_reason: 'unload' });
      return;
    }
    inFlight++;
    let runner: Runner | undefined;
    let slot = false;
    try {
      const acquired = await acquire(lm, wantOf(lm, options, keepAliveMs), () => res.destroyed);
      runner = acquired.runner;
      if (empty) {
        sendJson(res, 200, { ...base, created_at: goNow(), ...emptyMessage, done: true, done_reason: 'load' });
        return;
      }
      const r = runner;
      await takeSlot(r, res);
      slot = true;
      if (res.destroyed || closed) return;
      if (await hangOn(r, res, stream)) return;
      if (faults.oomOnGenerate !== 0) {
        if (faults.oomOnGenerate > 0) faults.oomOnGenerate--;
        runtimeOutOfMemory(r);
        // Before any token: routes.go streamResponse turns a first-message error into a plain JSON 500.
        throw new SimError(500, faults.oomText ?? profile.oomText);
      }
      const numPredict = Number(options.num_predict ?? -1);
      const count = numPredict > 0 ? numPredict : 8 + (prompt.length % 17);
      // While ps lies the runner is not really on the GPU (lost device): it runs at CPU speed.
      const ratio = r.size > 0 && !faults.psLie ? r.sizeVram / r.size : 0;
      const gpuTps = r.model.gpuTokensPerSecond || 100;
      const cpuTps = Math.max(1, gpuTps / 20);
      const tps = 1 / (ratio / gpuTps + (1 - ratio) / cpuTps);
      const words = prompt.split(/\s+/).filter(Boolean);
      const promptTokens = Math.max(1, words.length + 10);
      // The runner keeps the last prompt in its KV cache: prompt_eval_count counts every prompt token, but
      // prompt_eval_duration covers only those after the cached prefix, at least one (0.33 llm/llama_server.go
      // promptEvalCount = cache_n + prompt_n, duration = prompt_ms; 0.12 runner/ollamarunner the same way).
      let cached = 0;
      while (cached < words.length && cached < r.promptCache.length && words[cached] === r.promptCache[cached])
        cached++;
      const uncachedTokens = Math.max(1, promptTokens - (cached > 0 ? cached + 10 : 0));
      r.promptCache = words;
      const offset = prompt.length % WORDS.length;
      const tokens = Array.from({ length: count }, (_, i) => (i === 0 ? '' : ' ') + WORDS[(offset + i) % WORDS.length]);
      const write = stream ? startNdjson(res) : undefined;
      r.generating++;
      refreshActivity(r);
      try {
        for (const t of tokens) {
          if (res.destroyed || closed) return;
          if (r.dead) throw new SimError(500, RUNNER_GONE);
          if (write)
            write({
              ...base,
              created_at: goNow(),
              ...(chat ? { message: { role: 'assistant', content: t } } : { response: t }),
              done: false,
            });
          if (config.tokenDelayMs > 0) await sleep(config.tokenDelayMs);
        }
      } finally {
        r.generating--;
        refreshActivity(r);
      }
      if (r.dead) throw new SimError(500, RUNNER_GONE);
      const promptEvalNs = Math.round((uncachedTokens / (tps * 8)) * 1e9);
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
      if (runner && slot) freeSlot(runner);
      if (runner) release(runner);
    }
  }

  /**
   * hangGenerate / spinGenerate: the request holds its slot and never answers until the fault is cleared, the client
   * leaves, the runner dies or the sim closes. Returns true when the request is over (client gone or sim closed).
   */
  async function hangOn(r: Runner, res: http.ServerResponse, stream: boolean): Promise<boolean> {
    const mode = () => (faults.spinGenerate ? 'spin' : faults.hangGenerate ? 'hang' : undefined);
    if (!mode()) return false;
    const headers = faults.spinGenerate || faults.hangGenerate === 'headers';
    if (headers && !res.headersSent) {
      res.writeHead(200, { 'Content-Type': stream ? 'application/x-ndjson' : 'application/json; charset=utf-8' });
      res.flushHeaders();
    }
    while (mode() && !r.dead && !res.destroyed && !closed) {
      const spin = mode() === 'spin';
      if (spin) r.spinning++;
      else r.hung++;
      refreshActivity(r);
      await new Promise<void>((resolve) => {
        const done = () => {
          hangRelease.off('release', done);
          res.off('close', done);
          resolve();
        };
        hangRelease.on('release', done);
        res.on('close', done);
      });
      if (spin) r.spinning--;
      else r.hung--;
      refreshActivity(r);
    }
    if (r.dead && !res.destroyed) throw new SimError(500, RUNNER_GONE);
    return res.destroyed || closed;
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
    if (fromName === undefined) {
      // create.go: an unparsable `from` is a 400 error line.
      if (!stream) throw new SimError(400, 'invalid model name');
      startNdjson(res)({ error: 'invalid model name' });
      res.end();
      return;
    }
    let base = local.get(fromName);
    const write = stream ? startNdjson(res) : undefined;
    if (!base) {
      // server/model.go parseFromModel (0.12.6 and 0.33): a missing base is pulled inside the create stream, with
      // the pull's own lines, its own `success` included, before the create's lines.
      const pullError = await pullInto(fromName, write);
      base = local.get(fromName);
      if (pullError !== undefined || !base) {
        const message = pullError ?? `model '${fromRaw}' not found`;
        if (!write) throw new SimError(500, message);
        if (pullError === undefined) write({ error: message }); // the pull's error line is already out
        res.end();
        return;
      }
    }
    const lines: Array<Record<string, unknown>> = [];
    for (const l of modelLayers(base.model)) lines.push({ status: `using existing layer ${l.digest}` });
    const extra: Partial<LocalModel> = { parentModel: base.name };
    for (const key of ['system', 'template', 'parameters', 'license'] as const) {
      if (body[key] === undefined) continue;
      if (key === 'system' || key === 'template') extra[key] = text(body[key]);
      lines.push({ status: `creating new layer sha256:${sha256Hex(`${target}/${key}/${JSON.stringify(body[key])}`)}` });
    }
    lines.push({ status: 'writing manifest' }, { status: 'success' });
    addLocal(target, undefined, base, extra);
    if (!write) {
      sendJson(res, 200, { status: 'success' });
      return;
    }
    for (const l of lines) write(l);
    res.end();
  }

  /** Joins (or starts) the pull of `name`, forwarding its lines; resolves with its error text, if any. */
  async function pullInto(name: string, write: ((obj: unknown) => void) | undefined): Promise<string | undefined> {
    const existing = pullJobs.get(name);
    const job = existing && !existing.aborted ? existing : startPull(name);
    job.subscribers++;
    let error: string | undefined;
    await new Promise<void>((resolve) => {
      const onLine = (obj: Record<string, unknown>) => {
        if (typeof obj.error === 'string') error = obj.error;
        write?.(obj);
      };
      job.events.on('line', onLine);
      job.events.once('end', () => {
        job.events.off('line', onLine);
        resolve();
      });
    });
    job.subscribers--;
    return error;
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

  /** Whether /api/ps lists the runner now: a loading one only in the 0.12 profile (see sim-profile.ts). */
  function listed(r: Runner): boolean {
    return !r.loading || profile.listsLoadingModels;
  }

  function psBody() {
    const list = [...runners.values()].filter(listed).map((r) => {
      const lm = local.get(r.name);
      // Not set until the first request finishes: estimated as now + keep_alive (sched.go loadedModels).
      const expiresAt =
        r.expiresAt ?? new Date(Date.now() + (r.sessionMs === Infinity ? FOREVER_MS : Math.max(0, r.sessionMs)));
      return {
        name: r.name,
        model: r.name,
        size: r.size,
        size_vram: faults.psLie ? r.size : r.sizeVram,
        digest: r.digest,
        details: lm ? detailsOf(lm) : {},
        expires_at: formatGoTime(expiresAt, r.nsJitter),
        context_length: r.numCtx,
        _sortKey: expiresAt.getTime(),
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
      profile: profile.name,
      defaultNumCtx,
      loadQueue,
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
        expiresAt: r.expiresAt ? formatGoTime(r.expiresAt, r.nsJitter) : '',
        loading: r.loading,
        stopping: r.stopping,
        slots: r.slots,
        busySlots: r.busySlots,
        slotWaiters: r.slotWaiters.length,
        refCount: r.refCount,
        activity: r.activity,
        dead: r.dead,
        listed: listed(r),
        vramNowMiB: r.vramNowMiB,
        numCtxAuto: r.numCtxAuto,
      })),
      localModels: [...local.values()].map((lm) => lm.name),
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
        if (!faults.hangGenerate || !faults.spinGenerate) hangRelease.emit('release'); // waiters re-check the faults
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
      case 'POST /_sim/crash': {
        const r = runners.get(modelArg());
        if (!r || r.loading || !r.proc) throw new SimError(404, 'model not loaded');
        const proc = r.proc;
        if (!r.dead && proc.exitCode === null && proc.signalCode === null) {
          const exited = new Promise<void>((res) => proc.once('exit', () => res()));
          runnerDied(r);
          proc.kill('SIGKILL');
          await exited;
        }
        await syncRunnerProcs();
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
          spinGenerate: false,
          stallLoad: false,
          oomOnLoad: 0,
          oomOnGenerate: 0,
          oomText: null,
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
    if (method === 'GET' && path === '/api/ps') return sendJson(res, 200, psBody());
    const route = `${method} ${path}`;
    // gin with HandleMethodNotAllowed (routes.go, 0.12.6 and 0.33): a known path with another method is 405, e.g.
    // HEAD /api/ps (only GET is registered there, while /, /api/version and /api/tags also register HEAD).
    const allowed = ROUTE_METHODS[path];
    if (allowed && !allowed.includes(method)) {
      res.writeHead(405, { 'Content-Type': 'text/plain', Allow: allowed.join(', ') });
      res.end(method === 'HEAD' ? undefined : '405 method not allowed');
      return;
    }
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
