/** "127.0.0.1:9778", "[::1]:9778" or ":9778" (every interface) -> host and port; port 0 picks a free one. */
export function parseListenAddress(value: string): { host: string | undefined; port: number } {
  const m = value.match(/^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/);
  if (!m || Number(m[3]) > 65535) throw new Error(`listen address "${value}" is not host:port (e.g. 127.0.0.1:9778, [::1]:9778 or :9778)`);
  const host = m[1] ?? m[2];
  return { host: host === '' ? undefined : host, port: Number(m[3]) };
}
