import Docker from 'dockerode';
import { parseDockerHost } from '../config/parse-docker-host.js';
import type { DockerConfig } from '../config/types.js';

// Parsed with the configuration (a bad host is a config error); re-exported for the clients' callers.
export { parseDockerHost, type DockerEndpoint } from '../config/parse-docker-host.js';

/**
 * A dockerode client for exactly `cfg.host`. docker-modem fills its defaults from DOCKER_HOST, DOCKER_CERT_PATH and
 * DOCKER_CLIENT_TIMEOUT in the environment and lets them win over a socketPath; every such key is set here
 * explicitly so the configuration is the only input. `timeout` is the socket inactivity limit of each request; calls
 * also take an AbortSignal for the collector's overall deadline.
 */
export function createDockerClient(cfg: DockerConfig): Docker {
  const endpoint = parseDockerHost(cfg.host);
  const common = { timeout: cfg.timeout_ms, ca: undefined, cert: undefined, key: undefined, version: undefined };
  if (endpoint.kind === 'unix') {
    return new Docker({
      ...common,
      socketPath: endpoint.socketPath,
      host: undefined,
      port: undefined,
      protocol: undefined,
    });
  }
  return new Docker({
    ...common,
    socketPath: undefined,
    host: endpoint.host,
    port: endpoint.port,
    protocol: endpoint.protocol,
  });
}
