import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../log/create-logger.js';
import { parseListenAddress, type ListenConfig } from './listen-settings.js';
import { TlsFileWatch, type TlsStatus } from './tls-file-watch.js';
import type { TlsFiles } from './tls-files.js';
import type { WebConfig } from './web-config.js';
import { clientCertRefusal, webTlsOptions } from './web-tls-options.js';

export type { TlsStatus } from './tls-file-watch.js';

/**
 * What one client may hold. Sized for the two callers these services have, Alertmanager and Prometheus: small
 * requests sent at once over reused keep-alive connections. Documented in remediator/README.md and exporter/README.md.
 */
export interface ServerLimits {
  /** Until the request's headers are complete. */
  readonly headersTimeoutMs: number;
  /** Until the whole request, headers and body, has arrived (the handler's own time is not counted). */
  readonly requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  readonly keepAliveTimeoutMs: number;
  /** Connections open at once; one more is closed as soon as it is accepted. */
  readonly maxConnections: number;
  /** How often the two request timeouts are checked: Node's default (30 s) let them run up to 30 s late. */
  readonly checkIntervalMs: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  // Longer than the common scrape intervals (15-60 s), so Prometheus reuses its connection between scrapes and
  // Alertmanager between the notifications of a burst; both keep idle connections up to 5 min and redial a closed one.
  keepAliveTimeoutMs: 65_000,
  maxConnections: 256,
  checkIntervalMs: 1_000,
};

export interface HttpServerOptions {
  /** Tests shorten these; the services run with DEFAULT_SERVER_LIMITS. */
  readonly limits?: Partial<ServerLimits>;
  /** How often the TLS certificate and key files are checked for a change (default 30 s). */
  readonly tlsPollMs?: number;
  /**
   * An exporter-toolkit web config (--web.config.file), read and validated by the command: its TLS settings (the
   * listener's own TLS keys are then unset: checkListen refuses both) and its response headers. Its basic_auth_users
   * are the app's business, like the listener's basic_auth keys.
   */
  readonly web?: WebConfig;
}

export interface RunningServer {
  readonly server: Server;
  /** Base URL to reach the server, e.g. "http://127.0.0.1:9778". */
  readonly url: string;
  readonly port: number;
  /** Present when serving HTTPS: whether the certificate files in use are the ones on disk. */
  readonly tls?: () => TlsStatus;
  /** Stops accepting, closes idle keep-alive connections, waits for in-flight requests (bounded). */
  close(timeoutMs?: number): Promise<void>;
}

/**
 * Starts HTTP or, with a certificate and key, HTTPS on the configured address. The certificate is re-read when its
 * files change (TlsFileWatch); the files were checked at start-up by the command (checkListenFiles).
 */
export async function startHttpServer(
  listen: ListenConfig,
  handler: RequestListener,
  log: Logger,
  opts: HttpServerOptions = {},
): Promise<RunningServer> {
  const limits = { ...DEFAULT_SERVER_LIMITS, ...opts.limits };
  const { host, port } = parseListenAddress(listen.listen_address);
  const timeouts = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: limits.checkIntervalMs,
  };
  const tls = serverTls(listen, opts.web, log);
  const headers = Object.entries(opts.web?.http_server_config.headers ?? {});
  const listener: RequestListener =
    headers.length === 0
      ? handler
      : (req, res) => {
          for (const [name, value] of headers) res.setHeader(name, value);
          handler(req, res);
        };
  const watch = tls?.watch;
  const https = tls
    ? createHttpsServer({ ...timeouts, ...tls.server, ...tls.context(tls.watch.initial) }, listener)
    : undefined;
  const server: Server = https ? (https as unknown as Server) : createHttpServer(timeouts, listener);
  const mode = opts.web?.tls_server_config?.client_auth_type;
  if (https && mode && mode !== 'NoClientCert') {
    https.on('secureConnection', (socket: TLSSocket) => {
      const sent = Object.keys(socket.getPeerCertificate()).length > 0;
      const refusal = clientCertRefusal(mode, sent, socket.authorized);
      if (!refusal) return;
      log.debug({ remote: socket.remoteAddress, reason: refusal }, 'TLS connection refused');
      socket.destroy();
    });
  }
  server.maxConnections = limits.maxConnections;
  let dropped = 0;
  let lastDropLog = 0;
  server.on('drop', () => {
    dropped++;
    if (Date.now() - lastDropLog < 60_000) return;
    lastDropLog = Date.now();
    log.warn(
      { dropped, max_connections: limits.maxConnections },
      'connection limit reached: new connections are closed at once',
    );
    dropped = 0;
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  if (tls && https) tls.watch.start((files) => https.setSecureContext(tls.context(files)), opts.tlsPollMs ?? 30_000);
  const addr = server.address() as AddressInfo;
  const shownHost =
    addr.family === 'IPv6' ? `[${addr.address}]` : addr.address === '0.0.0.0' ? '127.0.0.1' : addr.address;
  const url = `${watch ? 'https' : 'http'}://${shownHost}:${addr.port}`;
  log.info({ url, tls: Boolean(watch), ...(mode ? { client_auth: mode } : {}) }, 'listening');
  return {
    server,
    url,
    port: addr.port,
    ...(watch ? { tls: () => watch.status() } : {}),
    close: (timeoutMs = 5000) =>
      new Promise<void>((resolve) => {
        watch?.stop();
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

/** The TLS files to follow and the options to serve them with: from the web config, or the listener's own keys. */
function serverTls(listen: ListenConfig, web: WebConfig | undefined, log: Logger) {
  const t = web?.tls_server_config;
  if (t) {
    const options = webTlsOptions(t);
    return { watch: new TlsFileWatch(t.cert_file, t.key_file, log, t.client_ca_file), ...options };
  }
  if (!listen.tls_cert_file || !listen.tls_key_file) return undefined;
  return {
    watch: new TlsFileWatch(listen.tls_cert_file, listen.tls_key_file, log),
    server: {},
    context: (files: TlsFiles) => ({ cert: files.cert, key: files.key }),
  };
}
