import { Deadline } from './deadline.js';
import { OllamaError } from './ollama-error.js';
import {
  asObject,
  OllamaTransport,
  type CallOptions,
  type OllamaEndpoint,
  type TransportOptions,
} from './ollama-transport.js';
import { parsePsResponse, type RunningModel } from './parse-ps.js';
import { parseTagsResponse, type LocalModel } from './parse-tags.js';
import { readNdjson, type NdjsonObject } from './read-ndjson.js';

export interface OllamaClientOptions extends TransportOptions {
  readonly now?: () => number;
}

export interface GenerateChunk extends NdjsonObject {
  readonly response?: string;
  readonly done?: boolean;
  readonly done_reason?: string;
  /** Durations are nanoseconds. */
  readonly total_duration?: number;
  readonly load_duration?: number;
  readonly prompt_eval_count?: number;
  readonly prompt_eval_duration?: number;
  readonly eval_count?: number;
  readonly eval_duration?: number;
}

export interface GenerateRequest {
  readonly model: string;
  readonly prompt?: string;
  readonly keep_alive?: string | number;
  readonly options?: Readonly<Record<string, unknown>>;
  readonly [field: string]: unknown;
}

export interface GenerateOptions {
  readonly signal?: AbortSignal;
  /** Until response headers: Ollama answers only once the runner is loaded. Reason "load_timeout". */
  readonly loadTimeoutMs: number;
  /**
   * Asked each time loadTimeoutMs runs out before the headers: true waits another loadTimeoutMs. Leaving is not
   * neutral: Ollama aborts a load whose request went away (WaitUntilRunning), so a load still making progress is
   * waited for rather than thrown away and started again from nothing by the next request.
   */
  readonly loadGoesOn?: () => boolean;
  /** From headers until the first chunk (and between later chunks). Reason "first_token_timeout" / "stalled". */
  readonly firstTokenTimeoutMs: number;
  readonly onChunk?: (chunk: GenerateChunk) => void;
}

export interface GenerateResult {
  readonly final: GenerateChunk;
  /** Milliseconds from sending to response headers. */
  readonly headersMs: number;
  /** Milliseconds from sending to the first chunk (time to first byte of the answer). */
  readonly firstChunkMs: number;
  readonly totalMs: number;
  readonly chunks: number;
  readonly response: string;
}

export interface StreamOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: PullProgress) => void;
  /** No new status and no completed-bytes change for this long aborts with reason "stalled". Default 60 s. */
  readonly stallTimeoutMs?: number;
  /** Overall deadline. Default 6 h. */
  readonly timeoutMs?: number;
}

export interface PullProgress extends NdjsonObject {
  readonly status?: string;
  readonly digest?: string;
  readonly total?: number;
  readonly completed?: number;
}

export interface LoadFields {
  readonly keep_alive?: string | number;
  readonly options?: Readonly<Record<string, unknown>>;
}

/**
 * Ollama HTTP API client with a hard deadline on every call, raw status codes and failures classified into a bounded
 * `OllamaError.reason`. Streams are read strictly (see readNdjson). What each route means lives here; how a call
 * goes over the wire (URL, headers, CA, deadline, failure classification) lives in OllamaTransport.
 */
export class OllamaClient {
  readonly target: OllamaEndpoint;
  private readonly now: () => number;
  private readonly http: OllamaTransport;

  constructor(target: OllamaEndpoint, opts: OllamaClientOptions = {}) {
    this.target = target;
    this.now = opts.now ?? Date.now;
    this.http = new OllamaTransport(target, opts);
  }

  /** HEAD / : the HTTP server lives (it keeps answering while inference hangs). Returns the 2xx status. */
  async head(call: CallOptions = {}): Promise<number> {
    return this.http.short('HEAD', '/', undefined, call, async (res) => {
      // A proxy answering 401/502 for Ollama is not a live Ollama.
      await this.http.failUnlessOk('HEAD', '/', res);
      res.discard();
      return res.status;
    });
  }

  async version(call: CallOptions = {}): Promise<string> {
    const json = await this.http.getJson('/api/version', call);
    const version = (json as { version?: unknown } | null)?.version;
    if (typeof version !== 'string') throw new OllamaError('bad_json', '/api/version: no "version" string');
    return version;
  }

  async ps(call: CallOptions = {}): Promise<RunningModel[]> {
    return parsePsResponse(await this.http.getJson('/api/ps', call), this.now());
  }

  async tags(call: CallOptions = {}): Promise<LocalModel[]> {
    return parseTagsResponse(await this.http.getJson('/api/tags', call));
  }

  /** POST /api/show; null when the model is not in the local store (404). */
  async show(model: string, call: CallOptions & { verbose?: boolean } = {}): Promise<Record<string, unknown> | null> {
    const body = JSON.stringify({ model, ...(call.verbose ? { verbose: true } : {}) });
    return this.http.short('POST', '/api/show', body, call, async (res) => {
      if (res.status === 404) {
        res.discard();
        return null;
      }
      await this.http.failUnlessOk('POST', '/api/show', res);
      return asObject(await this.http.readJson(res, '/api/show'), '/api/show');
    });
  }

  /** DELETE /api/delete; false when the model did not exist (404). */
  async delete(model: string, call: CallOptions = {}): Promise<boolean> {
    return this.http.short('DELETE', '/api/delete', JSON.stringify({ model }), call, async (res) => {
      res.discard();
      return res.status !== 404;
    });
  }

  /**
   * Streaming generate with separate deadlines: Ollama sends headers together with the first chunk once the runner
   * is loaded, so `loadTimeoutMs` covers loading and `firstTokenTimeoutMs` whatever follows headers. Fails with
   * "load_timeout", "first_token_timeout", "stalled", "http_<code>", "stream_error" or "truncated" (no done:true).
   */
  async generate(request: GenerateRequest, opts: GenerateOptions): Promise<GenerateResult> {
    const deadline = new Deadline(opts.signal);
    const started = this.now();
    let headersMs: number;
    let firstChunkMs = -1;
    let chunks = 0;
    let response = '';
    deadline.arm(
      opts.loadTimeoutMs,
      'load_timeout',
      `no response headers within ${opts.loadTimeoutMs} ms (model loading?)`,
      opts.loadGoesOn,
    );
    try {
      const res = await this.http.send('POST', '/api/generate', JSON.stringify({ ...request, stream: true }), deadline);
      headersMs = this.now() - started;
      await this.http.failUnlessOk('POST', '/api/generate', res);
      deadline.arm(
        opts.firstTokenTimeoutMs,
        'first_token_timeout',
        `no token within ${opts.firstTokenTimeoutMs} ms after headers`,
      );
      const final = await readNdjson(res.body, {
        status: res.status,
        isFinal: (v) => v.done === true,
        onValue: (v) => {
          if (chunks++ === 0) firstChunkMs = this.now() - started;
          if (typeof v.response === 'string') response += v.response;
          deadline.arm(opts.firstTokenTimeoutMs, 'stalled', `no chunk for ${opts.firstTokenTimeoutMs} ms`);
          opts.onChunk?.(v as GenerateChunk);
        },
      });
      res.discard();
      return {
        final: final as GenerateChunk,
        headersMs,
        firstChunkMs,
        totalMs: this.now() - started,
        chunks,
        response,
      };
    } catch (err) {
      throw this.http.fail(err, deadline, 'POST /api/generate');
    } finally {
      deadline.dispose();
    }
  }

  /**
   * Loads a model without generating (empty prompt): the answer comes once the runner is ready. Send the model's
   * configured keep_alive and options (modelRequestFields) or Ollama may reload it or re-arm its unload timer.
   */
  async load(
    model: string,
    fields: LoadFields,
    call: CallOptions = {},
  ): Promise<{ loadMs: number; final: GenerateChunk }> {
    const started = this.now();
    const body = JSON.stringify({
      model,
      ...(fields.keep_alive !== undefined ? { keep_alive: fields.keep_alive } : {}),
      ...(fields.options !== undefined ? { options: fields.options } : {}),
      stream: false,
    });
    const final = await this.http.short(
      'POST',
      '/api/generate',
      body,
      { ...call, timeoutMs: call.timeoutMs ?? 600_000 },
      async (res) => {
        await this.http.failUnlessOk('POST', '/api/generate', res);
        return asObject(await this.http.readJson(res, '/api/generate'), '/api/generate') as GenerateChunk;
      },
    );
    return { loadMs: this.now() - started, final };
  }

  /** keep_alive 0 with an empty prompt: Ollama expires the runner at once (done_reason "unload"). */
  async unload(model: string, call: CallOptions = {}): Promise<void> {
    const body = JSON.stringify({ model, keep_alive: 0, stream: false });
    await this.http.short('POST', '/api/generate', body, call, async (res) => {
      await this.http.failUnlessOk('POST', '/api/generate', res);
      res.discard();
    });
  }

  /** Streams POST /api/pull; resolves only on the final {"status":"success"}. */
  async pull(model: string, opts: StreamOptions & { insecure?: boolean } = {}): Promise<PullProgress> {
    const body = JSON.stringify({ model, ...(opts.insecure ? { insecure: true } : {}), stream: true });
    return this.progressStream('/api/pull', body, opts);
  }

  /** Streams POST /api/create (body: from, files, quantize, parameters...); same stream rules as pull. */
  async create(
    model: string,
    body: Readonly<Record<string, unknown>>,
    opts: StreamOptions = {},
  ): Promise<PullProgress> {
    // Read to the end: a missing base is pulled inside the stream, with the pull's own "success" before the last one.
    return this.progressStream('/api/create', JSON.stringify({ ...body, model, stream: true }), opts, true);
  }

  private async progressStream(path: string, body: string, opts: StreamOptions, toEnd = false): Promise<PullProgress> {
    const stallMs = opts.stallTimeoutMs ?? 60_000;
    const overallMs = opts.timeoutMs ?? 6 * 3600_000;
    const deadline = new Deadline(opts.signal);
    const overall = setTimeout(
      () => deadline.abort(new OllamaError('timeout', `${path} did not finish within ${overallMs} ms`)),
      overallMs,
    );
    const stall = (): void => deadline.arm(stallMs, 'stalled', `${path}: no progress for ${stallMs} ms`);
    let lastKey = '';
    stall();
    try {
      const res = await this.http.send('POST', path, body, deadline);
      await this.http.failUnlessOk('POST', path, res);
      const final = await readNdjson(res.body, {
        status: res.status,
        isFinal: (v) => v.status === 'success',
        toEnd,
        onValue: (v) => {
          // Ollama repeats the same progress line on a ticker while a download is stuck (#1036): only a new status
          // or more bytes count as progress.
          const key = `${String(v.status)}|${String(v.digest)}|${String(v.completed)}`;
          if (key !== lastKey) {
            lastKey = key;
            stall();
          }
          opts.onProgress?.(v as PullProgress);
        },
      });
      res.discard();
      return final as PullProgress;
    } catch (err) {
      throw this.http.fail(err, deadline, `POST ${path}`);
    } finally {
      clearTimeout(overall);
      deadline.dispose();
    }
  }
}
