import type http from 'node:http';

/**
 * What a faulty server does instead of answering normally.
 * - drop: the connection is cut before any byte of the answer. `applied`: the server did the work first (only the
 *   answer was lost); otherwise the request never reached it.
 * - status: an error answer (500...) instead of the work; the server did nothing.
 * - hang: no answer until the server closes; the client's own deadline, abort or death ends the call.
 * - none: a normal answer; only the switch's onHit runs (to change the world, or fill a disk, at that moment).
 */
export type Fault =
  | { readonly kind: 'none' }
  | { readonly kind: 'drop'; readonly applied: boolean }
  | { readonly kind: 'status'; readonly status: number; readonly message?: string }
  | { readonly kind: 'hang' };

export interface FaultRequest {
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
}

export interface ArmOptions {
  /** How many matching requests get the fault; default every one. */
  readonly times?: number;
  /** Only requests this accepts match (e.g. a load, not an unload, of /api/generate). */
  readonly when?: (req: FaultRequest) => boolean;
  /** Awaited when the fault hits, before it takes effect: the moment to snapshot a data dir or change the world. */
  readonly onHit?: (req: FaultRequest) => void | Promise<void>;
}

interface Armed extends ArmOptions {
  readonly method: string;
  readonly path: RegExp;
  readonly fault: Fault;
  left: number;
}

/**
 * Fault switches per endpoint, for the test servers (the fake Docker Engine, the fake Ollama): an endpoint is a method
 * and a path regex, anchored at both ends ("POST /containers/[^/]+/restart").
 */
export class FaultSwitch {
  #armed: Armed[] = [];
  /** Every fault that hit, as "METHOD /path kind". */
  readonly hits: string[] = [];

  arm(endpoint: string, fault: Fault, opts: ArmOptions = {}): void {
    const [method, path] = endpoint.split(' ', 2);
    if (!method || !path) throw new Error(`an endpoint is "METHOD /path-regex", not ${JSON.stringify(endpoint)}`);
    this.#armed.push({ ...opts, method, path: new RegExp(`^${path}$`), fault, left: opts.times ?? Infinity });
  }

  /** Disarms every fault and forgets the hits. */
  clear(): void {
    this.#armed = [];
    this.hits.length = 0;
  }

  /** The fault armed for this request, if any (one of its `times` is used up), once its onHit has run. */
  async take(req: FaultRequest): Promise<Fault | undefined> {
    const a = this.#find(req);
    await a?.onHit?.(req);
    return a?.fault;
  }

  /** take() for synchronous callers (a signal is sent synchronously): onHit must do its work before it returns. */
  takeNow(req: FaultRequest): Fault | undefined {
    const a = this.#find(req);
    if (a?.onHit?.(req) instanceof Promise) throw new Error('takeNow: onHit must be synchronous');
    return a?.fault;
  }

  #find(req: FaultRequest): Armed | undefined {
    const a = this.#armed.find(
      (x) => x.left > 0 && x.method === req.method && x.path.test(req.path) && (x.when?.(req) ?? true),
    );
    if (!a) return undefined;
    a.left--;
    this.hits.push(`${req.method} ${req.path} ${a.fault.kind}`);
    return a;
  }
}

/** The answer a server gives when nothing goes wrong. */
export interface Reply {
  readonly status: number;
  readonly headers?: http.OutgoingHttpHeaders;
  readonly body?: string | Buffer;
}

/**
 * Answers `res` under `fault` (undefined: normally). `work` does what the server does and returns its answer; it is
 * not run when the fault stops the request before the server (a drop not applied, an error status, a hang).
 */
export async function answerWithFault(
  res: http.ServerResponse,
  fault: Fault | undefined,
  work: () => Promise<Reply> | Reply,
): Promise<void> {
  if (fault?.kind === 'hang') return; // closeAllConnections() at close ends it
  if (fault?.kind === 'drop' && !fault.applied) return void res.socket?.destroy();
  if (fault?.kind === 'status') {
    // Docker says `message`, Ollama says `error`: both, so either client reads the reason.
    const message = fault.message ?? `injected HTTP ${fault.status}`;
    return send(res, {
      status: fault.status,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message, error: message }),
    });
  }
  const reply = await work();
  if (fault?.kind === 'drop') return void res.socket?.destroy();
  send(res, reply);
}

function send(res: http.ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, reply.headers);
  res.end(reply.body);
}
