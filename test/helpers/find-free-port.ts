import { createServer } from 'node:net';

/**
 * A TCP port that is free on `host` right now. The kernel picks it (port 0), so parallel tests never
 * collide on a fixed number; the small window until the caller binds it is accepted.
 */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error(`no free port on ${host}`))));
    });
  });
}
