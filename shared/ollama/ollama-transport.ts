import { readFile } from 'node:fs/promises';
import { rootCertificates } from 'node:tls';
import { classifyNetworkError } from './classify-network-error.js';
import { Deadline } from './deadline.js';
import { httpRequest, type HttpResponse } from './http-request.js';
import { OllamaError } from './ollama-error.js';

/** Where one Ollama server is and how to reach it: the part of a configured target that the client needs. */
export interface OllamaEndpoint {
  /** Bounded label on every Ollama metric. */
  readonly name: string;
  /** Normalised base URL without trailing slash, e.g. "http://127.0.0.1:11434". */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** PEM file with extra CA certificates for an authenticating TLS proxy. */
  readonly ca_file?: string;
}

export interface TransportOptions {
  /** Deadline of each short call (HEAD, version, ps, tags, show, delete, unload). Default 10 s. */
  readonly timeoutMs?: number;
  /** PEM text of extra CA certificates; by default read from target.ca_file on first use. */
  readonly ca?: string | Buffer;
  readonly readFile?: (path: string) => Promise<Buffer>;
  readonly userAgent?: string;
}

export interface CallOptions {
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

const JSON_LIMIT = 32 << 20;
const ERROR_BODY_LIMIT = 64 << 10;

/**
 * The request plumbing under OllamaClient: one endpoint's URL, headers and extra CA, a deadline per call, the body
 * limits, and every failure turned into an OllamaError with a bounded reason. OllamaClient says what each API route
 * means; this says how a call goes over the wire and how it fails.
 */
export class OllamaTransport {
  private readonly timeoutMs: number;
  private readonly userAgent: string;
  private readonly loadFile: (path: string) => Promise<Buffer>;
  private ca: Promise<(string | Buffer)[] | undefined> | undefined;

  constructor(
    readonly endpoint: OllamaEndpoint,
    private readonly opts: TransportOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.userAgent = opts.userAgent ?? 'ollama-sentinel';
    this.loadFile = opts.readFile ?? ((path) => readFile(path));
  }

  async getJson(path: string, call: CallOptions): Promise<unknown> {
    return this.short('GET', path, undefined, call, async (res) => {
      await this.failUnlessOk('GET', path, res);
      return this.readJson(res, path);
    });
  }

  /** One request under a single deadline covering headers and body. */
  async short<T>(
    method: string,
    path: string,
    body: string | undefined,
    call: CallOptions,
    handle: (res: HttpResponse) => Promise<T>,
  ): Promise<T> {
    const ms = call.timeoutMs ?? this.timeoutMs;
    const deadline = new Deadline(call.signal);
    deadline.arm(ms, 'timeout', `${method} ${path} took longer than ${ms} ms`);
    try {
      const res = await this.send(method, path, body, deadline);
      return await handle(res);
    } catch (err) {
      throw this.fail(err, deadline, `${method} ${path}`);
    } finally {
      deadline.dispose();
    }
  }

  async send(method: string, path: string, body: string | undefined, deadline: Deadline): Promise<HttpResponse> {
    const url = new URL(this.endpoint.url.replace(/\/+$/, '') + path);
    const headers: Record<string, string> = {
      'user-agent': this.userAgent,
      accept: 'application/json',
      ...this.endpoint.headers,
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const ca = url.protocol === 'https:' ? await this.extraCa() : undefined;
    return httpRequest(url, {
      method,
      headers,
      signal: deadline.signal,
      ...(body !== undefined ? { body } : {}),
      ...(ca ? { ca } : {}),
    });
  }

  private extraCa(): Promise<(string | Buffer)[] | undefined> {
    // https's `ca` replaces the default roots; keep them so a proxy with a public certificate still works.
    this.ca ??= (async () => {
      const pem = this.opts.ca ?? (this.endpoint.ca_file ? await this.readCaFile(this.endpoint.ca_file) : undefined);
      return pem === undefined ? undefined : [...rootCertificates, pem];
    })();
    return this.ca;
  }

  private async readCaFile(path: string): Promise<Buffer> {
    try {
      return await this.loadFile(path);
    } catch (cause) {
      this.ca = undefined; // retry on the next call: the file may be mounted later
      throw new OllamaError('config', `cannot read ca_file ${path}: ${(cause as Error).message}`, { cause });
    }
  }

  async failUnlessOk(method: string, path: string, res: HttpResponse): Promise<void> {
    if (res.status >= 200 && res.status < 300) return;
    let detail = '';
    try {
      const text = await res.text(ERROR_BODY_LIMIT);
      try {
        const parsed = JSON.parse(text) as { error?: unknown };
        detail = typeof parsed.error === 'string' ? parsed.error : text;
      } catch {
        detail = text;
      }
    } catch {
      res.discard();
    }
    detail = detail.trim().slice(0, 500);
    throw new OllamaError(`http_${res.status}`, `${method} ${path}: HTTP ${res.status}${detail ? `: ${detail}` : ''}`, {
      status: res.status,
    });
  }

  async readJson(res: HttpResponse, path: string): Promise<unknown> {
    const text = await res.text(JSON_LIMIT);
    try {
      return JSON.parse(text);
    } catch (cause) {
      throw new OllamaError('bad_json', `${path}: response is not JSON: ${text.slice(0, 120)}`, {
        cause,
        status: res.status,
      });
    }
  }

  /**
   * Classifies a failure and tears the request down (a stream error leaves the response open). The deadline's own
   * failure wins: whatever the socket reported after an abort is a consequence of it.
   */
  fail(err: unknown, deadline: Deadline, what: string): OllamaError {
    const own = deadline.failure;
    let failure: OllamaError;
    if (own) {
      failure = new OllamaError(own.reason, `${what} to ${this.endpoint.name}: ${own.message}`, {
        cause: err === own ? own.cause : err,
      });
    } else if (err instanceof OllamaError) {
      failure = err.message.startsWith(what)
        ? err
        : new OllamaError(err.reason, `${what} to ${this.endpoint.name}: ${err.message}`, {
            cause: err.cause,
            ...(err.status !== undefined ? { status: err.status } : {}),
          });
    } else {
      const reason = classifyNetworkError(err);
      const message = err instanceof Error ? err.message : String(err);
      failure = new OllamaError(reason, `${what} to ${this.endpoint.name} failed (${reason}): ${message}`, {
        cause: err,
      });
    }
    deadline.abort(failure);
    return failure;
  }
}

/** A JSON body that must be an object (show, a non-streamed generate). */
export function asObject(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new OllamaError('bad_json', `${what}: expected a JSON object`);
  }
  return value as Record<string, unknown>;
}
