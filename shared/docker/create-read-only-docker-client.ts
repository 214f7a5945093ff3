import http from 'node:http';
import https from 'node:https';
import { addAbortSignal } from 'node:stream';
import { parseDockerHost } from '../config/parse-docker-host.js';
import type { DockerConfig } from '../config/types.js';
import type { DockerReadApi, EngineInfo, InspectedContainer, ListedContainer } from './docker-api.js';

/** A non-2xx answer of the Engine, shaped like dockerode's errors: `statusCode` is what callers test (404 = gone). */
export class DockerEngineError extends Error {
  constructor(
    message: string,
    readonly statusCode: number,
    readonly reason: string,
    readonly json: unknown,
  ) {
    super(message);
    this.name = 'DockerEngineError';
  }
}

/** Filtered lists, one inspect, one stats sample and /info are kilobytes; a bigger answer is not one of them. */
const MAX_ANSWER_BYTES = 8 * 1024 * 1024;

/** The Engine's documented meanings of each status, per call (dockerode's words, so logs read as before). */
const SERVER_ERROR = { 500: 'server error' };
const LIST_STATUSES = { 400: 'bad parameter', ...SERVER_ERROR };
const CONTAINER_STATUSES = { 404: 'no such container', ...SERVER_ERROR };

/** dockerode's query encoding: objects (filters) as JSON, scalars as text, undefined left out. */
function query(params: Record<string, boolean | { [key: string]: string[] } | undefined>): string {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    q.set(key, typeof value === 'object' ? JSON.stringify(value) : String(value));
  }
  const text = q.toString();
  return text ? `?${text}` : '';
}

/**
 * A Docker Engine API client that can only read, for the exporter: a read-only bind of docker.sock does not make the
 * API read-only, so this client is built so that it cannot send anything but GET. Its one sending function has no
 * method parameter and no body, and the object it returns has only the reads the exporter needs. It is plain
 * node:http(s), so the exporter does not load dockerode (about 26 MiB of RSS).
 *
 * It behaves like the dockerode client of create-docker-client.ts: exactly `cfg.host` (the DOCKER_* environment is
 * never read), `timeout_ms` as the socket inactivity limit of each request plus the caller's AbortSignal, no API
 * version in the path (the daemon answers in its own version, as dockerode without `version` does), and errors with
 * the Engine's status in `statusCode` and its message in the text. TLS (https://) verifies the daemon against the
 * system CAs, without a client certificate, as the dockerode client is configured.
 */
export function createReadOnlyDockerClient(cfg: DockerConfig): DockerReadApi {
  const endpoint = parseDockerHost(cfg.host);
  const where =
    endpoint.kind === 'unix' ? { socketPath: endpoint.socketPath } : { host: endpoint.host, port: endpoint.port };
  const transport = endpoint.kind === 'tcp' && endpoint.protocol === 'https' ? https : http;

  function get<T>(path: string, statuses: Readonly<Record<number, string>>, signal?: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const what = `GET ${path} on the Docker Engine at ${cfg.host}`;
      const req = transport.request({ ...where, method: 'GET', path, timeout: cfg.timeout_ms, signal });
      req.on('timeout', () =>
        req.destroy(new Error(`${what}: no answer for ${cfg.timeout_ms} ms (docker.timeout); is the daemon hung?`)),
      );
      req.on('error', reject);
      req.on('response', (res) => {
        // The request's signal covers the request only; the answer's body is cut by it too.
        if (signal) addAbortSignal(signal, res);
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) res.destroy(new Error(`${what}: answer over ${MAX_ANSWER_BYTES} bytes`));
          else chunks.push(chunk);
        });
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            if (json === undefined) reject(new Error(`${what}: the answer is not JSON: ${text.slice(0, 200)}`));
            else resolve(json as T);
            return;
          }
          const message = (json as { message?: unknown } | undefined)?.message;
          const reason = statuses[status] ?? 'unexpected';
          const detail = typeof message === 'string' ? message : text.slice(0, 200);
          reject(new DockerEngineError(`(HTTP code ${status}) ${reason} - ${detail}`, status, reason, json));
        });
      });
      req.end();
    });
  }

  const container = (id: string) => `/containers/${encodeURIComponent(id)}`;
  return Object.freeze({
    listContainers: (o: { all?: boolean; filters?: { [key: string]: string[] }; abortSignal?: AbortSignal }) =>
      get<ListedContainer[]>(
        `/containers/json${query({ all: o.all, filters: o.filters })}`,
        LIST_STATUSES,
        o.abortSignal,
      ),
    getContainer: (id: string) =>
      Object.freeze({
        inspect: (o?: { abortSignal?: AbortSignal }) =>
          get<InspectedContainer>(`${container(id)}/json`, CONTAINER_STATUSES, o?.abortSignal),
        // Always one sample (stream=false): a streamed answer never ends.
        stats: (o?: { 'one-shot'?: boolean; abortSignal?: AbortSignal }) =>
          get<unknown>(
            `${container(id)}/stats${query({ stream: false, 'one-shot': o?.['one-shot'] })}`,
            CONTAINER_STATUSES,
            o?.abortSignal,
          ),
      }),
    info: (o?: { abortSignal?: AbortSignal }) => get<EngineInfo>('/info', SERVER_ERROR, o?.abortSignal),
  });
}
