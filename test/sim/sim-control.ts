/**
 * The simulator's control API (/_sim/ on the sim's own port): the shapes of its JSON bodies and answers, and a typed
 * client for tests. ollama-sim.ts implements the server side; this file imports nothing from it, so the contract
 * reads on its own. The demo (deploy/demo/inject-fault.ts) speaks the few calls it needs over HTTP itself: deploy/
 * may not import test/.
 */

export interface SimRunnerInfo {
  name: string;
  pid: number | undefined;
  port: number;
  argv: string[];
  size: number;
  sizeVram: number;
  /** Whether its VRAM is recorded as a process in the GPU state. */
  onGpu: boolean;
  numCtx: number;
  expiresAt: string;
  loading: boolean;
  stopping: boolean;
  /** Slots of the runner (OLLAMA_NUM_PARALLEL) and how many requests hold one now. */
  slots: number;
  busySlots: number;
  /** Requests waiting for a free slot (they wait without limit, never 503). */
  slotWaiters: number;
  /** Requests holding a reference (running or waiting for a slot); expires_at is frozen while > 0. */
  refCount: number;
  /** What the runner process is doing (also told to the runner process when it supports it). */
  activity: RunnerActivity;
  /** Its process died (crashRunner): still listed by /api/ps until expiry or the next request reloads it. */
  dead: boolean;
  /** Whether /api/ps lists it now (a loading model is listed only by the 0.12 profile). */
  listed: boolean;
  /** VRAM the process holds now (MiB): grows in steps during a load up to size_vram. */
  vramNowMiB: number;
  /** num_ctx came from the default (no num_ctx anywhere): never forces a reload against another default. */
  numCtxAuto: boolean;
}

export type RunnerActivity = 'idle' | 'loading' | 'generating' | 'hung' | 'spinning';

export interface SimConfig {
  /** A load takes this long after the runner answers, growing its VRAM in steps. */
  loadDelayMs: number;
  /** OLLAMA_NUM_PARALLEL: slots per new runner (default 1; embedding models always 1). */
  numParallel: number;
  tokenDelayMs: number;
  pullBytesPerSecond: number;
  /** OLLAMA_MAX_QUEUE: requests waiting for a load beyond this get 503 (requests for a loaded model never do). */
  maxQueue: number;
  /** New loads put this fraction of the model on the GPU (null = decided by free VRAM). */
  partialOffloadRatio: number | null;
  /** Caps the VRAM the sim may use for all its runners together (null = the GPU state's free memory). */
  vramLimitMiB: number | null;
}

export interface SimFaults {
  /** New loads get size_vram 0 and no GPU process (silent CPU fallback). */
  cpuFallback: boolean;
  /** /api/ps reports size_vram = size while the GPU state holds no process for the runners. */
  psLie: boolean;
  /**
   * generate/chat get their runner and slot, then never answer: 'headers' sends 200 headers first, 'nothing' sends
   * zero bytes. The runner is flat (activity 'hung', no CPU, GPU idle).
   */
  hangGenerate: 'headers' | 'nothing' | false;
  /** Like hangGenerate ('headers' when true) but the runner burns CPU and GPU (activity 'spinning'): looks busy. */
  spinGenerate: boolean;
  /** Loads make no progress (activity 'hung', VRAM does not grow) until cleared, then finish. */
  stallLoad: boolean;
  /** Loads that fail with OOM: a count, -1 = every load, 0 = off. */
  oomOnLoad: number;
  /**
   * Generations that hit an out-of-memory while running: a count, -1 = every one, 0 = off. 0.30+ then expires every
   * loaded runner; on 0.12 the runner dies (see README "Version profiles").
   */
  oomOnGenerate: number;
  /** The error text of oomOnLoad and oomOnGenerate; null = the profile's CUDA text (see README "Version profiles"). */
  oomText: string | null;
  /** `nvidia-smi` inside the sim container fails (written to the GPU state as container_nvml_lost). */
  containerGpuLost: boolean;
  /** Destroy the connection of the next N API requests (no answer, the socket just closes). */
  flakyConnections: number;
}

export interface ForcedAnswer {
  /** Request path (e.g. "/api/generate") or "*" for every /api/ path and "/". */
  endpoint: string;
  status: 404 | 500 | 503 | number;
  /** How many requests get it; omitted = until cleared. */
  count?: number;
  message?: string;
}

export interface PullFault {
  mode: 'error' | 'stall';
  /** Bytes a pull transfers before the fault hits. */
  afterBytes: number;
  /** error mode: the error line's text (default `max retries exceeded: EOF`). */
  message?: string;
  /** error mode: how many pulls fail (default 1); stall lasts until cleared. */
  count?: number;
}

export interface LoggedRequest {
  at: string;
  method: string;
  path: string;
  /** Parsed JSON when it parses, else the raw text; undefined without a body. */
  body: unknown;
}

export interface SimSnapshot {
  version: string;
  /** The behaviour profile the version selects: '0.12' (< 0.30) or '0.33' (>= 0.30). */
  profile: '0.12' | '0.33';
  /** num_ctx used when a request sets none. */
  defaultNumCtx: number;
  /** Requests waiting for a load (the scheduler's pending queue, capped by maxQueue). */
  loadQueue: number;
  url: string;
  executable: string;
  runners: SimRunnerInfo[];
  localModels: string[];
  config: SimConfig;
  faults: SimFaults;
  forcedAnswers: ForcedAnswer[];
  pullFault: PullFault | null;
  inFlight: number;
}

export class SimControl {
  constructor(
    readonly baseUrl: string,
    private readonly token?: string,
  ) {}

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const res = await fetch(`${this.baseUrl}/_sim/${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`sim control ${method} ${path}: ${res.status} ${text}`);
    return text === '' ? undefined : JSON.parse(text);
  }

  state(): Promise<SimSnapshot> {
    return this.call('GET', 'state') as Promise<SimSnapshot>;
  }

  /** Requests the sim received on its Ollama API (not /_sim/), oldest first. */
  async requests(): Promise<LoggedRequest[]> {
    return ((await this.call('GET', 'requests')) as { requests: LoggedRequest[] }).requests;
  }

  async clearRequests(): Promise<void> {
    await this.call('DELETE', 'requests');
  }

  /** loadDelayMs, numParallel, tokenDelayMs, pullBytesPerSecond, maxQueue, partialOffloadRatio, vramLimitMiB. */
  configure(config: Partial<SimConfig>): Promise<SimSnapshot> {
    return this.call('POST', 'config', config) as Promise<SimSnapshot>;
  }

  /** cpuFallback, psLie, hangGenerate, spinGenerate, stallLoad, oomOnLoad, oomOnGenerate, oomText, containerGpuLost, flakyConnections. */
  setFaults(faults: Partial<SimFaults>): Promise<SimSnapshot> {
    return this.call('POST', 'faults', faults) as Promise<SimSnapshot>;
  }

  setLoadDelay(ms: number): Promise<SimSnapshot> {
    return this.configure({ loadDelayMs: ms });
  }

  setCpuFallback(enabled: boolean): Promise<SimSnapshot> {
    return this.setFaults({ cpuFallback: enabled });
  }

  setPsLie(enabled: boolean): Promise<SimSnapshot> {
    return this.setFaults({ psLie: enabled });
  }

  setHangGenerate(mode: 'headers' | 'nothing' | false): Promise<SimSnapshot> {
    return this.setFaults({ hangGenerate: mode });
  }

  /** count loads fail with OOM (-1 = all until cleared with 0); `text` replaces the profile's CUDA text. */
  setOomOnGenerate(count: number): Promise<SimSnapshot> {
    return this.setFaults({ oomOnGenerate: count });
  }

  setOomOnLoad(count: number, text?: string | null): Promise<SimSnapshot> {
    return this.setFaults(text === undefined ? { oomOnLoad: count } : { oomOnLoad: count, oomText: text });
  }

  setSpinGenerate(enabled: boolean): Promise<SimSnapshot> {
    return this.setFaults({ spinGenerate: enabled });
  }

  setStallLoad(enabled: boolean): Promise<SimSnapshot> {
    return this.setFaults({ stallLoad: enabled });
  }

  /**
   * SIGKILLs the model's runner process. As in Ollama, /api/ps keeps listing the model with its old size_vram until
   * keep_alive expiry or until the next request for it reloads it; its GPU process goes away.
   */
  crashRunner(model: string): Promise<SimSnapshot> {
    return this.call('POST', 'crash', { model }) as Promise<SimSnapshot>;
  }

  setContainerGpuLost(enabled: boolean): Promise<SimSnapshot> {
    return this.setFaults({ containerGpuLost: enabled });
  }

  /** Drop the connection under the next `count` API requests. */
  flakyConnections(count: number): Promise<SimSnapshot> {
    return this.setFaults({ flakyConnections: count });
  }

  setPartialOffload(ratio: number | null): Promise<SimSnapshot> {
    return this.configure({ partialOffloadRatio: ratio });
  }

  /** Answer requests to `endpoint` ("*" = all) with `status` (optionally only `count` times). */
  forceAnswer(answer: ForcedAnswer): Promise<SimSnapshot> {
    return this.call('POST', 'fail', answer) as Promise<SimSnapshot>;
  }

  clearForcedAnswers(): Promise<SimSnapshot> {
    return this.call('DELETE', 'fail') as Promise<SimSnapshot>;
  }

  setPullFault(fault: PullFault | null): Promise<SimSnapshot> {
    return (
      fault === null ? this.call('DELETE', 'pull-fault') : this.call('POST', 'pull-fault', fault)
    ) as Promise<SimSnapshot>;
  }

  /** Unload a model now, as if its keep_alive ran out. */
  expire(model: string): Promise<SimSnapshot> {
    return this.call('POST', 'expire', { model }) as Promise<SimSnapshot>;
  }

  /** Keep a loaded model listed as "Stopping..." (expires_at in the past); false unloads it. */
  setStopping(model: string, enabled: boolean): Promise<SimSnapshot> {
    return this.call('POST', 'stopping', { model, enabled }) as Promise<SimSnapshot>;
  }

  /** Spawns the profile's GPU discovery processes under the sim now; they exit after durationMs. */
  runDiscovery(durationMs: number): Promise<SimSnapshot & { discoveryPids: number[] }> {
    return this.call('POST', 'discovery', { durationMs }) as Promise<SimSnapshot & { discoveryPids: number[] }>;
  }

  addModel(name: string, size?: number): Promise<SimSnapshot> {
    return this.call('POST', 'models', size === undefined ? { name } : { name, size }) as Promise<SimSnapshot>;
  }

  removeModel(name: string): Promise<SimSnapshot> {
    return this.call('DELETE', 'models', { name }) as Promise<SimSnapshot>;
  }

  /** Clears every fault, forced answer and the pull fault (config and request log stay). */
  reset(): Promise<SimSnapshot> {
    return this.call('POST', 'reset') as Promise<SimSnapshot>;
  }
}
