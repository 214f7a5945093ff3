import { Worker } from 'node:worker_threads';
import type { NvmlProcesses, NvmlRequest, NvmlResponse, NvmlSample } from './nvml-protocol.js';
import { classifyNvidiaSmiFailure, NvidiaSmiError } from './run-nvidia-smi.js';

/**
 * An NVML failure with the same bounded reasons as the nvidia-smi path (nvidia-smi's exit codes are NVML return
 * codes, so one table serves both): gpu_lost, driver_not_loaded, no_permission, version_mismatch, not_found...
 * plus `nvml_stuck` (a call still hangs: nothing else is sent) and `timeout`. Extends NvidiaSmiError so the
 * collectors turn both into the same CollectError.
 */
export class NvmlError extends NvidiaSmiError {
  constructor(
    reason: string,
    message: string,
    readonly code?: number,
  ) {
    super(reason, message);
    this.name = 'NvmlError';
  }
}

/** nvmlReturn_t -> reason; 999 (NVML_ERROR_UNKNOWN) at init reads like nvidia-smi's "Failed to initialize NVML". */
export function nvmlReason(code: number, message = ''): string {
  if (code === 999) return /nvmlInit/.test(message) ? 'nvml_init_failed' : 'unknown_error';
  if (code === 1) return 'nvml_uninitialized';
  if (code === -1) return 'nvml_worker_error';
  return classifyNvidiaSmiFailure(code, '').replace(/^exit_/, 'nvml_');
}

interface Pending {
  readonly req: NvmlRequest;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
}

/**
 * The main thread's side of the NVML worker. Requests queue and go out one at a time. Each is watched with the
 * caller's timeout: a request still queued at its deadline is dropped; one in flight at its deadline is a driver
 * call hung in the kernel, which no one can cancel, so the client becomes stuck: every request fails at once with
 * `nvml_stuck` and nothing more is sent until the hung call returns (then it recovers by itself).
 */
export class NvmlClient {
  private readonly worker: Worker;
  private readonly queue: Pending[] = [];
  private inFlight: Pending | undefined;
  private nextId = 1;
  private stuckSince: number | null = null;
  private opened: Promise<void> | undefined;

  constructor(
    readonly library: string,
    private readonly now: () => number = Date.now,
  ) {
    // No inherited execArgv: flags meant for the main script (e.g. --input-type) make a worker fail to start.
    this.worker = new Worker(new URL('./nvml-worker.js', import.meta.url), { workerData: { library }, execArgv: [] });
    this.worker.on('message', (res: NvmlResponse) => this.settle(res));
    this.worker.on('error', (err) => this.failAll(new NvmlError('nvml_worker_error', `NVML worker: ${err.message}`)));
    // A worker blocked in the driver must not keep the process alive at exit. After the listeners: adding a
    // 'message' listener refs the worker's port again.
    this.worker.unref();
  }

  /** Since when a call has been hung (ms), or null. */
  stuckSinceMs(): number | null {
    return this.stuckSince;
  }

  /** Loads the library (once); rejects with nvml_library_missing when it cannot be loaded. */
  open(timeoutMs: number): Promise<void> {
    this.opened ??= this.request('open', timeoutMs).then(() => undefined);
    return this.opened;
  }

  async sample(timeoutMs: number): Promise<NvmlSample> {
    await this.open(timeoutMs);
    return (await this.request('sample', timeoutMs)) as NvmlSample;
  }

  async processes(timeoutMs: number): Promise<NvmlProcesses> {
    await this.open(timeoutMs);
    return (await this.request('processes', timeoutMs)) as NvmlProcesses;
  }

  async close(): Promise<void> {
    this.failAll(new NvmlError('shutdown', 'NVML client closed'));
    await this.worker.terminate();
  }

  private request(op: NvmlRequest['op'], timeoutMs: number): Promise<unknown> {
    if (this.stuckSince !== null) {
      const s = Math.round((this.now() - this.stuckSince) / 1000);
      return Promise.reject(new NvmlError('nvml_stuck', `an NVML call has not returned for ${s} s; not calling again`));
    }
    return new Promise((resolve, reject) => {
      const p: Pending = { req: { id: this.nextId++, op }, resolve, reject };
      p.timer = setTimeout(() => this.expire(p, timeoutMs), timeoutMs);
      this.queue.push(p);
      this.pump();
    });
  }

  private expire(p: Pending, timeoutMs: number): void {
    if (this.inFlight === p) {
      this.stuckSince = this.now() - timeoutMs;
      for (const q of this.queue.splice(0))
        this.reject(q, new NvmlError('nvml_stuck', 'an earlier NVML call hangs; not calling again'));
      p.reject(new NvmlError('timeout', `NVML ${p.req.op} did not return within ${timeoutMs} ms (driver call hung)`));
      return;
    }
    const i = this.queue.indexOf(p);
    if (i >= 0) this.queue.splice(i, 1);
    p.reject(new NvmlError('timeout', `NVML ${p.req.op} waited ${timeoutMs} ms for an earlier call`));
  }

  private settle(res: NvmlResponse): void {
    const p = this.inFlight;
    this.inFlight = undefined;
    this.stuckSince = null;
    if (p && p.req.id === res.id) {
      clearTimeout(p.timer);
      if (res.ok) p.resolve(res.value);
      else {
        const reason = p.req.op === 'open' ? 'nvml_library_missing' : nvmlReason(res.code, res.message);
        const what = p.req.op === 'open' ? `cannot load ${this.library}` : `NVML ${p.req.op}`;
        p.reject(new NvmlError(reason, `${what}: ${res.message} (${reason})`, res.code));
      }
    }
    this.pump();
  }

  private pump(): void {
    if (this.inFlight || this.stuckSince !== null) return;
    const next = this.queue.shift();
    if (!next) return;
    this.inFlight = next;
    this.worker.postMessage(next.req);
  }

  private reject(p: Pending, err: Error): void {
    clearTimeout(p.timer);
    p.reject(err);
  }

  private failAll(err: Error): void {
    for (const q of this.queue.splice(0)) this.reject(q, err);
    if (this.inFlight) this.reject(this.inFlight, err);
    this.inFlight = undefined;
  }
}
