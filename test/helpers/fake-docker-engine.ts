import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';

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
  readonly requests: EngineRequest[];
  close(): Promise<void>;
}

/**
 * A scripted Docker Engine API on a unix socket in a temp dir, so the actions' real dockerode calls (paths, query,
 * bodies) are exercised without a daemon. Unrouted requests answer 404 like the Engine does for unknown objects.
 */
export async function startFakeDockerEngine(
  route: (req: EngineRequest) => EngineReply | Promise<EngineReply>,
): Promise<FakeDockerEngine> {
  const dir = await mkdtemp(join(tmpdir(), 'sentinel-fake-engine-'));
  const socketPath = join(dir, 'docker.sock');
  const requests: EngineRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://engine');
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        // keep the raw text
      }
      const recorded = { method: req.method ?? '', path: url.pathname, query: url.searchParams, body };
      requests.push(recorded);
      Promise.resolve(route(recorded))
        .then((reply) => {
          const r = reply ?? { status: 404, json: { message: `no route for ${recorded.method} ${recorded.path}` } };
          if (r.json === undefined) {
            res.writeHead(r.status);
            res.end();
          } else {
            res.writeHead(r.status, { 'content-type': 'application/json' });
            res.end(JSON.stringify(r.json));
          }
        })
        .catch((err: unknown) => {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ message: String(err) }));
        });
    });
  });
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
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
