import type { ConfigIssues } from '../config/config-issues.js';
import type { ScalarSchema } from '../config/scalar-field.js';
import { checkSecretFile } from './secret-files.js';
import { checkTlsFiles } from './tls-files.js';

/** Listener settings shared by both HTTP services (exporter and remediator). */
export interface ListenConfig {
  /** host:port; ":9778" means every interface. */
  readonly listen_address: string;
  readonly tls_cert_file?: string;
  readonly tls_key_file?: string;
  readonly basic_auth_username?: string;
  readonly basic_auth_password_file?: string;
  /** An exporter-toolkit web config file (--web.config.file): TLS, client certificates, headers, bcrypt users. */
  readonly web_config_file?: string;
}

/** "127.0.0.1:9778", "[::1]:9778" or ":9778" (every interface) -> host and port; port 0 picks a free one. */
export function parseListenAddress(value: string): { host: string | undefined; port: number } {
  const m = value.match(/^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/);
  if (!m || Number(m[3]) > 65535)
    throw new Error(`listen address "${value}" is not host:port (e.g. 127.0.0.1:9778, [::1]:9778 or :9778)`);
  const host = m[1] ?? m[2];
  return { host: host === '' ? undefined : host, port: Number(m[3]) };
}

/** Listener settings shared by both HTTP services. */
export function listenScalars(defaultAddress: string): ScalarSchema {
  return {
    listen_address: {
      kind: 'string',
      default: defaultAddress,
      doc: 'host:port to listen on (":PORT" = every interface).',
    },
    tls_cert_file: { kind: 'string', optional: true, doc: 'PEM certificate; with tls_key_file, serve HTTPS.' },
    tls_key_file: { kind: 'string', optional: true, doc: 'PEM private key for tls_cert_file.' },
    basic_auth_username: { kind: 'string', optional: true, doc: 'Require HTTP basic auth with this user name.' },
    basic_auth_password_file: {
      kind: 'string',
      optional: true,
      doc: 'File holding the basic auth password (trailing newline ignored).',
    },
  };
}

/** The listener's web config file key, for the sections whose command reads it (the exporter). */
export const webConfigScalar: ScalarSchema = {
  web_config_file: {
    kind: 'string',
    optional: true,
    doc: 'exporter-toolkit web config file (also --web.config.file): tls_server_config (with client certificates), http_server_config.headers, basic_auth_users (bcrypt). Replaces the tls_* and basic_auth_* keys, which must then be unset.',
  },
};

/** Keys a web config file replaces: both at once would leave it unclear which protects the listener. */
const REPLACED_BY_WEB_CONFIG = ['tls_cert_file', 'tls_key_file', 'basic_auth_username', 'basic_auth_password_file'];

/**
 * The listener's settings must make sense together: half of a TLS or basic-auth pair would otherwise start a plain,
 * unauthenticated server the operator believes is protected.
 */
export function checkListen(section: string, values: Readonly<Record<string, unknown>>, issues: ConfigIssues): void {
  try {
    parseListenAddress(String(values.listen_address));
  } catch (err) {
    issues.add(
      `${section}.listen_address`,
      (err as Error).message,
      'write host:port, e.g. 127.0.0.1:9778, [::1]:9778 or :9778',
    );
  }
  const pair = (a: string, b: string, what: string) => {
    if ((values[a] === undefined) !== (values[b] === undefined)) {
      const missing = values[a] === undefined ? a : b;
      issues.add(
        `${section}.${missing}`,
        `${what} needs both ${section}.${a} and ${section}.${b}`,
        `set ${section}.${missing} too, or remove the other one`,
      );
    }
  };
  pair('tls_cert_file', 'tls_key_file', 'TLS');
  pair('basic_auth_username', 'basic_auth_password_file', 'basic auth');
  const both = REPLACED_BY_WEB_CONFIG.filter((k) => values[k] !== undefined);
  if (values.web_config_file !== undefined && both.length > 0)
    issues.add(
      `${section}.web_config_file`,
      `conflicts with ${both.map((k) => `${section}.${k}`).join(', ')}: the web config file sets TLS and basic auth itself`,
      `move them into the web config file (tls_server_config, basic_auth_users) and unset ${both.map((k) => `${section}.${k}`).join(', ')}`,
    );
}

/**
 * The listener's files, read as the server will read them: certificate and key (each of its kind, and matching) and
 * the basic-auth password (not empty). Run by the commands before anything is started or written.
 */
export function checkListenFiles(section: string, cfg: ListenConfig, issues: ConfigIssues): void {
  if (cfg.tls_cert_file !== undefined && cfg.tls_key_file !== undefined)
    checkTlsFiles(section, cfg.tls_cert_file, cfg.tls_key_file, issues);
  checkSecretFile(
    `${section}.basic_auth_password_file`,
    cfg.basic_auth_password_file,
    issues,
    'the basic auth password',
  );
}
