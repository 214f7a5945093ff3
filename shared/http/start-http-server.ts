import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log/create-logger.js';
import { parseListenAddress, type ListenConfig } from './listen-settings.js';

export interface RunningServer {
  readonly server: Server;
  /** Base URL to reach the server, e.g. "http://127.0.0.1:9778". */
  readonly url: string;
  readonly port: number;
  /** Stops accepting, closes idle keep-alive connections, waits for in-flight requests (bounded). */
  close(timeoutMs?: number): Promise<void>;
}

/** Reads a secret file; trailing newlines are ignored because editors and `echo` add them. */
export function readSecretFile(path: string): string {
  return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
}

/** Starts HTTP or, with a certificate and key, HTTPS on the configured address. */
export async function startHttpServer(
  listen: ListenConfig,
  handler: RequestListener,
  log: Logger,
): Promise<RunningServer> {
  const { host, port } = parseListenAddress(listen.listen_address);
  const tls = listen.tls_cert_file && listen.tls_key_file;
  const server: Server = tls
    ? (createHttpsServer(
        { cert: readFileSync(listen.tls_cert_file!), key: readFileSync(listen.tls_key_file!) },
        handler,
      ) as unknown as Server)
    : createHttpServer(handler);
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const shownHost =
    addr.family === 'IPv6' ? `[${addr.address}]` : addr.address === '0.0.0.0' ? '127.0.0.1' : addr.address;
  const url = `${tls ? 'https' : 'http'}://${shownHost}:${addr.port}`;
  log.info({ url, tls: Boolean(tls) }, 'listening');
  return {
    server,
    url,
    port: addr.port,
    close: (timeoutMs = 5000) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.closeAllConnections();
          resolve();
        }, timeoutMs);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
