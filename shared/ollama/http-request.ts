import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';

export interface HttpRequestInit {
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Aborting destroys the request and, once it arrived, the response body. */
  readonly signal: AbortSignal;
  /** Extra CA certificates (PEM) for https, added to Node's bundled roots. */
  readonly ca?: readonly (string | Buffer)[];
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: AsyncIterable<Buffer>;
  /** Reads the whole body as text, failing past `limitBytes`. */
  text(limitBytes: number): Promise<string>;
  /** Drops the rest of the body and the connection. */
  discard(): void;
}

/**
 * Thin HTTP transport on node:http/https. Node 20's global fetch cannot take extra CA certificates without the
 * undici package (not exposed by Node), and its 300 s headers timeout would cut long cold loads, so the client uses
 * this instead. Connections are not kept alive: a health check should see a fresh connect, and reusing an idle socket
 * the server closed would surface as spurious "reset" failures.
 */
export function httpRequest(url: URL, init: HttpRequestInit): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    if (init.signal.aborted) {
      reject(init.signal.reason instanceof Error ? init.signal.reason : new Error('request aborted'));
      return;
    }
    const isHttps = url.protocol === 'https:';
    const headers: Record<string, string> = { ...init.headers, connection: 'close' };
    if (init.body !== undefined) headers['content-length'] = String(Buffer.byteLength(init.body));
    const options: https.RequestOptions = { method: init.method, headers, agent: false };
    if (isHttps && init.ca && init.ca.length > 0) options.ca = [...init.ca];
    const req = (isHttps ? https : http).request(url, options);

    const onAbort = (): void => {
      req.destroy(init.signal.reason instanceof Error ? init.signal.reason : new Error('aborted'));
    };
    init.signal.addEventListener('abort', onAbort, { once: true });
    const cleanup = (): void => init.signal.removeEventListener('abort', onAbort);

    req.on('error', (err) => {
      cleanup();
      reject(err);
    });
    req.on('response', (res) => {
      // From here the abort must also tear down the body stream the caller is reading.
      const onBodyAbort = (): void => {
        res.destroy(init.signal.reason instanceof Error ? init.signal.reason : new Error('aborted'));
      };
      init.signal.addEventListener('abort', onBodyAbort, { once: true });
      res.once('close', () => {
        init.signal.removeEventListener('abort', onBodyAbort);
        cleanup();
      });
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        body: res,
        async text(limitBytes: number): Promise<string> {
          const chunks: Buffer[] = [];
          let size = 0;
          for await (const chunk of res as AsyncIterable<Buffer>) {
            size += chunk.length;
            if (size > limitBytes) {
              res.destroy();
              throw new RangeError(`response body exceeds ${limitBytes} bytes`);
            }
            chunks.push(chunk);
          }
          return Buffer.concat(chunks).toString('utf8');
        },
        discard(): void {
          res.destroy();
        },
      });
    });
    req.end(init.body);
  });
}
