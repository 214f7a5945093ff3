import http from 'node:http';
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { answerWithFault, FaultSwitch, type Reply } from './fault-switch.js';

export interface EngineRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly body: unknown;
}

export type EngineReply = { status: number; json?: unknown } | undefined;

export interface FakeDockerEngine {
  /** A real dockerode client talking HTTP to the fake over its unix socket. */
  readonly docker: Docker;
  readonly socketPath: string;
  readonly requests: EngineRequest[];
  /** Per-endpoint faults (connection dropped, 500, no answer): see FaultSwitch. */
  readonly faults: FaultSwitch;
  close(): Promise<void>;
}

export interface FakeEngineOptions {
  /**
   * The socket of a real Docker Engine: requests the route leaves unanswered (undefined) go there, hijacked exec
   * streams included, so faults can be injected in front of a real daemon.
   */
  readonly forward?: string;
  /** With `forward`: told of each answer of the daemon, before it is passed on (or lost to a fault). */
  readonly onForwarded?: (req: EngineRequest, status: number) => void | Promise<void>;
}

/**
 * A scripted Docker Engine API on a unix socket in a temp dir, so the actions' real dockerode calls (paths, query,
 * bodies) are exercised without a daemon. Unrouted requests answer 404 like the Engine does for unknown objects, or go
 * to a real daemon with `forward`.
 */
export async function startFakeDockerEngine(
  route: (req: EngineRequest) => EngineReply | Promise<EngineReply>,
  opts: FakeEngineOptions = {},
): Promise<FakeDockerEngine> {
  const dir = await mkdtemp(join(tmpdir(), 'sentinel-fake-engine-'));
  const socketPath = join(dir, 'docker.sock');
  const requests: EngineRequest[] = [];
  const faults = new FaultSwitch();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://engine');
      const raw = Buffer.concat(chunks);
      const text = raw.toString('utf8');
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        // keep the raw text
      }
      const recorded = { method: req.method ?? '', path: url.pathname, query: url.searchParams, body };
      requests.push(recorded);
      const work = async (): Promise<Reply> => {
        const reply = await route(recorded);
        if (reply === undefined && opts.forward) {
          const answer = await forward(opts.forward, req, raw);
          await opts.onForwarded?.(recorded, answer.status);
          return answer;
        }
        const r = reply ?? { status: 404, json: { message: `no route for ${recorded.method} ${recorded.path}` } };
        return r.json === undefined
          ? { status: r.status }
          : { status: r.status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(r.json) };
      };
      faults
        .take(recorded)
        .then((fault) => answerWithFault(res, fault, work))
        .catch((err: unknown) => {
          if (res.headersSent) return void res.destroy();
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ message: String(err) }));
        });
    });
  });
  const tunnels = new Set<net.Socket>();
  if (opts.forward) {
    server.on('upgrade', (req, socket: net.Socket, head: Buffer) => {
      tunnels.add(socket);
      socket.on('close', () => tunnels.delete(socket));
      tunnel(opts.forward!, req, socket, head);
    });
  }
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  const docker = new Docker({
    socketPath,
    host: undefined,
    port: undefined,
    protocol: undefined,
    version: undefined,
    timeout: 10_000,
  });
  return {
    docker,
    socketPath,
    requests,
    faults,
    close: async () => {
      server.closeAllConnections();
      for (const s of tunnels) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** One request to the real daemon; its whole answer is read before it is passed on (the APIs used are small). */
function forward(socketPath: string, req: http.IncomingMessage, body: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const up = http.request({ socketPath, method: req.method, path: req.url, headers: req.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const headers = { ...res.headers };
        delete headers['transfer-encoding'];
        resolve({ status: res.statusCode ?? 502, headers, body: Buffer.concat(chunks) });
      });
      res.on('error', reject);
    });
    up.on('error', reject);
    up.end(body);
  });
}

/** A hijacked request (exec start): the raw bytes both ways once the daemon switches protocols. */
function tunnel(socketPath: string, req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
  const up = net.connect(socketPath, () => {
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    up.write(`${lines.join('\r\n')}\r\n\r\n`);
    up.write(head);
    socket.pipe(up);
    up.pipe(socket);
  });
  up.on('error', () => socket.destroy());
  socket.on('error', () => up.destroy());
}
