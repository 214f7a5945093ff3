/** Where to reach the Docker Engine API: a unix socket, or plain HTTP over TCP. */
export type DockerEndpoint =
  | { readonly kind: 'unix'; readonly socketPath: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly protocol: 'http' | 'https' };

/**
 * `unix:///var/run/docker.sock`, `tcp://127.0.0.1:2375` (also `http://`, `https://`) -> endpoint. A bare absolute
 * path is read as a socket, as the docker CLI does. tcp has no default port on purpose: 2375 vs 2376 (TLS) is a
 * security choice the operator should write down.
 */
export function parseDockerHost(host: string): DockerEndpoint {
  const value = host.trim();
  if (value.startsWith('/')) return { kind: 'unix', socketPath: value };
  if (value.startsWith('unix://')) {
    const socketPath = value.slice('unix://'.length);
    if (!socketPath.startsWith('/'))
      throw new Error(`docker host ${JSON.stringify(host)}: unix:// needs an absolute socket path`);
    return { kind: 'unix', socketPath };
  }
  const match = /^(tcp|http|https):\/\/(\[[^\]]+\]|[^:/]+):(\d+)\/?$/.exec(value);
  if (!match) {
    throw new Error(`docker host ${JSON.stringify(host)}: expected unix:///path/to/docker.sock or tcp://HOST:PORT`);
  }
  const port = Number(match[3]);
  if (port < 1 || port > 65535) throw new Error(`docker host ${JSON.stringify(host)}: port out of range`);
  return {
    kind: 'tcp',
    host: match[2]!.replace(/^\[(.*)\]$/, '$1'),
    port,
    protocol: match[1] === 'https' ? 'https' : 'http',
  };
}
