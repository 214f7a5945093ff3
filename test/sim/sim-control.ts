/**
 * Typed client for the simulator's control API (/_sim/ on the sim's own port), for tests and the demo.
 */
import type {
  ForcedAnswer, LoggedRequest, PullFault, SimConfig, SimFaults, SimSnapshot,
} from './ollama-sim.js';

export class SimControl {
  constructor(readonly baseUrl: string, private readonly token?: string) {}

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const res = await fetch(`${this.baseUrl}/_sim/${path}`, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(10_000),
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

  /** loadDelayMs, tokenDelayMs, pullBytesPerSecond, maxQueue, partialOffloadRatio, vramLimitMiB. */
  configure(config: Partial<SimConfig>): Promise<SimSnapshot> {
    return this.call('POST', 'config', config) as Promise<SimSnapshot>;
  }

  /** cpuFallback, psLie, hangGenerate, oomOnLoad, containerGpuLost, flakyConnections. */
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

  /** count loads fail with CUDA OOM (-1 = all until cleared with 0). */
  setOomOnLoad(count: number): Promise<SimSnapshot> {
    return this.setFaults({ oomOnLoad: count });
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
    return (fault === null ? this.call('DELETE', 'pull-fault') : this.call('POST', 'pull-fault', fault)) as Promise<SimSnapshot>;
  }

  /** Unload a model now, as if its keep_alive ran out. */
  expire(model: string): Promise<SimSnapshot> {
    return this.call('POST', 'expire', { model }) as Promise<SimSnapshot>;
  }

  /** Keep a loaded model listed as "Stopping..." (expires_at in the past); false unloads it. */
  setStopping(model: string, enabled: boolean): Promise<SimSnapshot> {
    return this.call('POST', 'stopping', { model, enabled }) as Promise<SimSnapshot>;
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
