/**
 * The conformance check's HTTP client: plain fetch, a deadline on every call, NDJSON streams the caller can watch and
 * abort. It only observes what any client of the server can observe.
 */

export interface HttpAnswer {
  /** HTTP status; 0 when no answer came (network error, deadline, abort). */
  readonly status: number;
  readonly text: string;
  readonly json: unknown;
  /** Why no answer came (status 0). */
  readonly error?: string;
  readonly ms: number;
}

export interface PsModel {
  readonly name: string;
  readonly model: string;
  readonly size: number;
  readonly size_vram: number;
  readonly expires_at: string;
  readonly context_length?: number;
}

/** A streamed generate request in flight. */
export interface StreamHandle {
  /** HTTP status once headers came (0 until then). */
  status(): number;
  /** Time of the first streamed token line (not the final line), or undefined. */
  firstTokenAt(): number | undefined;
  /** Lines received so far. */
  lines(): ReadonlyArray<Record<string, unknown>>;
  /** True once the stream ended (or failed, or was aborted). */
  ended(): boolean;
  /** Resolves when the stream ends (or fails, or is aborted). */
  readonly finished: Promise<void>;
  /** The error of a failed request (body of a non-200, or the network error). */
  error(): string | undefined;
  abort(): void;
}

export class ConformanceClient {
  constructor(
    readonly baseUrl: string,
    private readonly rowSignal: () => AbortSignal,
  ) {}

  async request(method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<HttpAnswer> {
    const started = Date.now();
    const signal = AbortSignal.any([this.rowSignal(), AbortSignal.timeout(timeoutMs)]);
    try {
      const res = await fetch(new URL(path, this.baseUrl), {
        method,
        signal,
        ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } }),
      });
      const text = method === 'HEAD' ? '' : await res.text();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      return { status: res.status, text, json, ms: Date.now() - started };
    } catch (err) {
      const e = err as Error;
      const why = e.name === 'TimeoutError' || e.name === 'AbortError' ? `no answer within ${timeoutMs} ms` : e.message;
      return { status: 0, text: '', json: undefined, error: why, ms: Date.now() - started };
    }
  }

  async version(): Promise<string> {
    const a = await this.request('GET', '/api/version', undefined, 10_000);
    const v = (a.json as { version?: unknown } | undefined)?.version;
    if (a.status !== 200 || typeof v !== 'string') throw new Error(`GET /api/version: ${a.error ?? a.status}`);
    return v;
  }

  /** /api/ps models, or null when it did not answer in time. */
  async ps(timeoutMs = 10_000): Promise<PsModel[] | null> {
    const a = await this.request('GET', '/api/ps', undefined, timeoutMs);
    const models = (a.json as { models?: unknown } | undefined)?.models;
    return a.status === 200 && Array.isArray(models) ? (models as PsModel[]) : null;
  }

  async tags(): Promise<Array<{ name: string; size: number; details?: { family?: string } }>> {
    const a = await this.request('GET', '/api/tags', undefined, 10_000);
    const models = (a.json as { models?: unknown } | undefined)?.models;
    if (a.status !== 200 || !Array.isArray(models)) throw new Error(`GET /api/tags: ${a.error ?? a.status}`);
    return models as Array<{ name: string; size: number; details?: { family?: string } }>;
  }

  /** A load (empty prompt) with optional keep_alive and options; waits for the load's answer. */
  load(model: string, extra: Record<string, unknown> = {}, timeoutMs = 300_000): Promise<HttpAnswer> {
    return this.request('POST', '/api/generate', { model, stream: false, ...extra }, timeoutMs);
  }

  unload(model: string): Promise<HttpAnswer> {
    return this.request('POST', '/api/generate', { model, keep_alive: 0 }, 30_000);
  }

  /** Starts a streamed generate; the returned handle watches it. Aborted with the row. */
  stream(path: string, body: Record<string, unknown>): StreamHandle {
    const ac = new AbortController();
    const signal = AbortSignal.any([this.rowSignal(), ac.signal]);
    let status = 0;
    let first: number | undefined;
    let ended = false;
    let error: string | undefined;
    const lines: Array<Record<string, unknown>> = [];
    const finished = (async () => {
      try {
        const res = await fetch(new URL(path, this.baseUrl), {
          method: 'POST',
          signal,
          body: JSON.stringify({ stream: true, ...body }),
          headers: { 'Content-Type': 'application/json' },
        });
        status = res.status;
        if (status !== 200 || !res.body) {
          error = await res.text();
          return;
        }
        const decoder = new TextDecoder();
        let buf = '';
        for await (const chunk of res.body) {
          buf += decoder.decode(chunk as Uint8Array, { stream: true });
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (!line) continue;
            const obj = JSON.parse(line) as Record<string, unknown>;
            lines.push(obj);
            if (typeof obj.error === 'string') error = obj.error;
            if (first === undefined && obj.done === false) first = Date.now();
          }
        }
      } catch (err) {
        if (!signal.aborted) error = (err as Error).message;
      } finally {
        ended = true;
      }
    })();
    return {
      status: () => status,
      firstTokenAt: () => first,
      lines: () => lines,
      ended: () => ended,
      finished,
      error: () => error,
      abort: () => ac.abort(),
    };
  }
}

/** The /api/ps entry of `model` (Ollama lists the short name: "llama3:latest" for "llama3"). */
export function findPs(models: readonly PsModel[], model: string): PsModel | undefined {
  const want = withTag(model).toLowerCase();
  return models.find((m) => withTag(m.name).toLowerCase() === want || withTag(m.model).toLowerCase() === want);
}

export function withTag(name: string): string {
  const slash = name.lastIndexOf('/');
  return name.slice(slash + 1).includes(':') ? name : `${name}:latest`;
}
