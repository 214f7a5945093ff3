import { isIP } from 'node:net';

export interface OllamaHost {
  /** Base URL to connect to, without trailing slash: "http://127.0.0.1:11434" or "https://proxy:443/ollama". */
  readonly url: string;
  readonly protocol: 'http' | 'https';
  /** Connectable host (IPv6 without brackets). */
  readonly hostname: string;
  readonly port: number;
  /** Path prefix without leading or trailing slash ("" for none). */
  readonly path: string;
}

const DEFAULT_PORT = 11434;

/**
 * Reads an OLLAMA_HOST-style value as Ollama's client does (envconfig.Host + ConnectableHost):
 * no scheme means http on port 11434; an explicit "http://" or "https://" without port means 80 or 443;
 * an empty value means 127.0.0.1:11434; the bind-all addresses 0.0.0.0 and :: are replaced by 127.0.0.1 so the value
 * a server listens on can be used to reach it. A path is kept (Ollama behind a reverse proxy). Unlike Ollama, which
 * warns and falls back, invalid input throws: a watchdog must not silently probe the wrong address.
 */
export function parseOllamaHost(value: string): OllamaHost {
  const input = value.trim();
  let protocol: 'http' | 'https' = 'http';
  let defaultPort = DEFAULT_PORT;
  let rest = input;
  const sep = input.indexOf('://');
  if (sep >= 0) {
    const scheme = input.slice(0, sep).toLowerCase();
    if (scheme !== 'http' && scheme !== 'https') {
      throw new Error(`Ollama host "${value}": unsupported scheme "${scheme}" (use http or https)`);
    }
    protocol = scheme;
    defaultPort = scheme === 'https' ? 443 : 80;
    rest = input.slice(sep + 3);
  }

  const slash = rest.indexOf('/');
  const hostport = slash >= 0 ? rest.slice(0, slash) : rest;
  const path = (slash >= 0 ? rest.slice(slash + 1) : '').replace(/^\/+|\/+$/g, '');
  if (/[?#\s]/.test(path))
    throw new Error(`Ollama host "${value}": the path must not contain a query, fragment or spaces`);

  let host: string;
  let portText: string | undefined;
  if (hostport.startsWith('[')) {
    const close = hostport.indexOf(']');
    if (close < 0) throw new Error(`Ollama host "${value}": unclosed "[" in IPv6 address`);
    host = hostport.slice(1, close);
    const after = hostport.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) throw new Error(`Ollama host "${value}": unexpected "${after}" after IPv6 address`);
      portText = after.slice(1);
    }
    if (isIP(host) !== 6) throw new Error(`Ollama host "${value}": "${host}" is not an IPv6 address`);
  } else if (isIP(hostport) === 6) {
    host = hostport; // bare IPv6 without port, accepted by Ollama too
  } else {
    const colon = hostport.lastIndexOf(':');
    if (colon >= 0) {
      host = hostport.slice(0, colon);
      portText = hostport.slice(colon + 1);
      if (host.includes(':'))
        throw new Error(`Ollama host "${value}": IPv6 addresses with a port need brackets, e.g. [::1]:11434`);
    } else {
      host = hostport;
    }
  }

  let port = defaultPort;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
      throw new Error(`Ollama host "${value}": invalid port "${portText}" (1-65535)`);
    }
    port = Number(portText);
  }

  if (host === '' || host === '0.0.0.0' || host === '::' || isUnspecifiedV6(host)) host = '127.0.0.1';
  if (isIP(host) === 0 && !/^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$/.test(host)) {
    throw new Error(`Ollama host "${value}": "${host}" is not a valid host name or IP address`);
  }

  const hostPart = isIP(host) === 6 ? `[${host}]` : host;
  const url = `${protocol}://${hostPart}:${port}${path ? `/${path}` : ''}`;
  return { url, protocol, hostname: host, port, path };
}

function isUnspecifiedV6(host: string): boolean {
  return isIP(host) === 6 && /^[0:]+$/.test(host);
}
