import type { ConfigSection } from '../shared/config/config-section.js';
import type { ConfigIssues } from '../shared/config/config-issues.js';
import type { ScalarSchema } from '../shared/config/scalar-field.js';
import { parseListenAddress } from '../shared/http/parse-listen-address.js';

/** Listener settings shared by both HTTP services. */
export function listenScalars(defaultAddress: string): ScalarSchema {
  return {
    listen_address: { kind: 'string', default: defaultAddress, doc: 'host:port to listen on (":PORT" = every interface).' },
    tls_cert_file: { kind: 'string', optional: true, doc: 'PEM certificate; with tls_key_file, serve HTTPS.' },
    tls_key_file: { kind: 'string', optional: true, doc: 'PEM private key for tls_cert_file.' },
    basic_auth_username: { kind: 'string', optional: true, doc: 'Require HTTP basic auth with this user name.' },
    basic_auth_password_file: { kind: 'string', optional: true, doc: 'File holding the basic auth password (trailing newline ignored).' },
  };
}

/**
 * The listener's settings must make sense together: half of a TLS or basic-auth pair would otherwise start a plain,
 * unauthenticated server the operator believes is protected.
 */
export function checkListen(section: string, values: Readonly<Record<string, unknown>>, issues: ConfigIssues): void {
  try {
    parseListenAddress(String(values.listen_address));
  } catch (err) {
    issues.add(`${section}.listen_address`, (err as Error).message, 'write host:port, e.g. 127.0.0.1:9778, [::1]:9778 or :9778');
  }
  const pair = (a: string, b: string, what: string) => {
    if ((values[a] === undefined) !== (values[b] === undefined)) {
      const missing = values[a] === undefined ? a : b;
      issues.add(`${section}.${missing}`, `${what} needs both ${section}.${a} and ${section}.${b}`, `set ${section}.${missing} too, or remove the other one`);
    }
  };
  pair('tls_cert_file', 'tls_key_file', 'TLS');
  pair('basic_auth_username', 'basic_auth_password_file', 'basic auth');
}

export const exporterSection: ConfigSection = {
  key: 'exporter',
  doc: 'The Prometheus exporter.',
  scalars: {
    ...listenScalars('127.0.0.1:9778'),
    telemetry_path: { kind: 'string', default: '/metrics', doc: 'Path of the metrics endpoint.' },
    max_concurrent_scrapes: { kind: 'int', default: 4, min: 1, max: 100, doc: 'Scrapes served at once; more get 503.' },
    node_metrics: { kind: 'bool', default: false, doc: "Also publish Node's process_* and nodejs_* series." },
    collector_gpu: { kind: 'bool', default: true, doc: 'GPU metrics from nvidia-smi --query-gpu.' },
    collector_gpu_processes: { kind: 'bool', default: true, doc: 'GPU compute processes, attributed to containers and Ollama targets.' },
    collector_ollama: { kind: 'bool', default: true, doc: 'Ollama API health: /, /api/version, /api/ps, /api/tags.' },
    collector_probe: { kind: 'bool', default: true, doc: 'Active one-token inference probe of keep_warm models.' },
    collector_containers: { kind: 'bool', default: true, doc: "CPU, memory and IO of each Ollama target's container." },
    ollama_interval: { kind: 'duration', default: '15s', min: 1000, doc: 'How often the Ollama API is read.' },
    ollama_timeout: { kind: 'duration', default: '5s', min: 100, doc: 'Limit for each Ollama API call of the health collector.' },
    probe_interval: { kind: 'duration', default: '60s', min: 1000, doc: 'How often keep_warm models are probed.' },
    probe_load_timeout: { kind: 'duration', default: '5m', min: 1000, doc: 'Deadline for a probed model to load (cold loads of large models take minutes).' },
    probe_first_token_timeout: { kind: 'duration', default: '30s', min: 100, doc: 'Deadline for the first token once the model is loaded; beyond it the runner counts as hung.' },
    probe_prompt: { kind: 'string', default: 'Say OK.', doc: 'Prompt of the one-token probe.' },
    containers_interval: { kind: 'duration', default: '15s', min: 1000, doc: 'How often container resources are read.' },
  },
  check: (values, issues) => checkListen('exporter', values, issues),
};
