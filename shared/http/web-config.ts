import { parse as parseYaml, YAMLParseError } from 'yaml';
import { ConfigIssues } from '../config/config-issues.js';
import { isRecord, checkKeys } from '../config/yaml-shapes.js';
import { readConfigFile } from './secret-files.js';
import { readTlsFiles, TlsFilesError } from './tls-files.js';
import {
  CLIENT_AUTH_TYPES,
  GO_CIPHER_SUITES,
  GO_CURVES,
  TLS_VERSIONS,
  type TlsVersionName,
  type WebTlsServerConfig,
} from './web-tls-options.js';

export type { ClientAuthType, WebTlsServerConfig } from './web-tls-options.js';

/** The exporter-toolkit web configuration file (`--web.config.file`), validated. */
export interface WebConfig {
  /** Absent: plain HTTP. */
  readonly tls_server_config?: WebTlsServerConfig;
  readonly http_server_config: {
    /** Accepted for compatibility; the server speaks HTTP/1.1 (Prometheus scrapes over HTTP/1.1 by default). */
    readonly http2: boolean;
    readonly headers: Readonly<Record<string, string>>;
  };
  /** User -> bcrypt hash; empty = no basic auth. */
  readonly basic_auth_users: Readonly<Record<string, string>>;
}

/** The response headers exporter-toolkit lets a web config set, with the values it allows (undefined = any). */
const HEADERS: Readonly<Record<string, readonly string[] | undefined>> = {
  'Content-Security-Policy': undefined,
  'X-Frame-Options': ['deny', 'sameorigin'],
  'X-Content-Type-Options': ['nosniff'],
  'X-XSS-Protection': undefined,
  'Strict-Transport-Security': undefined,
};

/** Keys exporter-toolkit knows and this server does not implement: refused, never silently ignored. */
const UNSUPPORTED: Readonly<Record<string, string>> = {
  rate_limit: 'remove it; rate-limit in a reverse proxy in front of the exporter',
  'tls_server_config.cert': 'write the PEM into a file and name it with cert_file',
  'tls_server_config.key': 'write the PEM into a file and name it with key_file',
  'tls_server_config.client_ca': 'write the PEM into a file and name it with client_ca_file',
  'tls_server_config.client_allowed_sans':
    'remove it; sign client certificates only for the allowed clients, with a CA used for nothing else (client_ca_file)',
};

const BCRYPT = /^\$2[aby]?\$(\d\d)\$[./A-Za-z0-9]{53}$/;

/**
 * Reads and validates an exporter-toolkit web config file: strict YAML (unknown keys and duplicates are errors, as
 * exporter-toolkit's UnmarshalStrict makes them), every value, and the files it names read as the server will read
 * them. Every problem is added to `issues` (path `FILE: key`); the result is undefined when there was any.
 */
export function readWebConfig(file: string, issues: ConfigIssues): WebConfig | undefined {
  const local = new ConfigIssues();
  const config = validate(file, local);
  for (const i of local.list) issues.add(`${file}: ${i.path}`, i.problem, i.fix);
  return local.empty ? config : undefined;
}

function validate(file: string, issues: ConfigIssues): WebConfig | undefined {
  let doc: unknown;
  try {
    doc = parseYaml(readConfigFile(file).toString('utf8'), { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const where = err.linePos ? `line ${err.linePos[0].line}` : '(document)';
      issues.add(where, `YAML syntax error: ${err.message.split('\n')[0]}`, 'fix the YAML syntax at that line');
    } else issues.add('(file)', (err as Error).message, 'pass the path of a readable web config file');
    return undefined;
  }
  doc ??= {};
  if (!isRecord(doc)) {
    issues.add('(document)', 'the file is not a YAML mapping', 'start it with tls_server_config: or basic_auth_users:');
    return undefined;
  }
  checkKnownKeys(doc, ['tls_server_config', 'http_server_config', 'basic_auth_users'], '', issues);
  const tls = tlsServerConfig(doc.tls_server_config, issues);
  const http = httpServerConfig(doc.http_server_config, issues);
  const users = basicAuthUsers(doc.basic_auth_users, issues);
  return { ...(tls ? { tls_server_config: tls } : {}), http_server_config: http, basic_auth_users: users };
}

/** checkKeys, with the keys exporter-toolkit knows but this server does not implement reported as such. */
function checkKnownKeys(obj: Record<string, unknown>, allowed: string[], path: string, issues: ConfigIssues): void {
  const unknown: Record<string, unknown> = {};
  for (const key of Object.keys(obj)) {
    const full = path ? `${path}.${key}` : key;
    if (UNSUPPORTED[full]) issues.add(full, 'is not supported by ollama-sentinel', UNSUPPORTED[full]);
    else unknown[key] = obj[key];
  }
  checkKeys(unknown, allowed, path, issues);
}

/** A mapping or nothing: null and absent are both "not set". */
function mapping(raw: unknown, path: string, issues: ConfigIssues): Record<string, unknown> | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (isRecord(raw)) return raw;
  issues.add(path, `must be a mapping, got ${JSON.stringify(raw)}`, `write \`${path}:\` followed by indented keys`);
  return undefined;
}

function text(raw: unknown, path: string, issues: ConfigIssues): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'string' && raw !== '') return raw;
  issues.add(path, `expected a non-empty string, got ${JSON.stringify(raw)}`, 'write the value as a string');
  return undefined;
}

function oneOf<T extends string>(raw: unknown, values: readonly T[], fallback: T, path: string, issues: ConfigIssues) {
  if (raw === undefined || raw === null) return fallback;
  if (values.includes(raw as T)) return raw as T;
  issues.add(path, `${JSON.stringify(raw)} is not one of ${values.join(', ')}`, `use one of: ${values.join(', ')}`);
  return fallback;
}

function bool(raw: unknown, fallback: boolean, path: string, issues: ConfigIssues): boolean {
  if (raw === undefined || raw === null) return fallback;
  if (typeof raw === 'boolean') return raw;
  issues.add(path, `expected true or false, got ${JSON.stringify(raw)}`, 'use true or false');
  return fallback;
}

function names(raw: unknown, known: Readonly<Record<string, unknown>>, path: string, issues: ConfigIssues): string[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    issues.add(path, 'must be a list', `write \`${path}:\` followed by \`- NAME\` lines`);
    return [];
  }
  for (const [i, n] of raw.entries())
    if (typeof n !== 'string' || !(n in known))
      issues.add(
        `${path}[${i}]`,
        `${JSON.stringify(n)} is not supported`,
        `use one of: ${Object.keys(known).join(', ')}`,
      );
  return raw.filter((n): n is string => typeof n === 'string' && n in known);
}

function tlsServerConfig(raw: unknown, issues: ConfigIssues): WebTlsServerConfig | undefined {
  const p = 'tls_server_config';
  const tls = mapping(raw, p, issues);
  if (!tls || Object.keys(tls).length === 0) return undefined;
  checkKnownKeys(
    tls,
    [
      ...['cert_file', 'key_file', 'client_auth_type', 'client_ca_file', 'min_version', 'max_version'],
      ...['cipher_suites', 'prefer_server_cipher_suites', 'curve_preferences'],
    ],
    p,
    issues,
  );
  const cert = text(tls.cert_file, `${p}.cert_file`, issues);
  const key = text(tls.key_file, `${p}.key_file`, issues);
  for (const [name, value] of [
    ['cert_file', cert],
    ['key_file', key],
  ] as const)
    if (value === undefined && tls[name] === undefined)
      issues.add(`${p}.${name}`, 'is required: TLS needs both cert_file and key_file', `set ${p}.${name}`);
  const auth = oneOf(tls.client_auth_type, CLIENT_AUTH_TYPES, 'NoClientCert', `${p}.client_auth_type`, issues);
  const ca = text(tls.client_ca_file, `${p}.client_ca_file`, issues);
  if (ca === undefined && (auth === 'VerifyClientCertIfGiven' || auth === 'RequireAndVerifyClientCert'))
    issues.add(
      `${p}.client_ca_file`,
      `is required: client_auth_type ${auth} verifies client certificates against it`,
      'set it to the PEM file of the CA that signs the client certificates',
    );
  if (ca !== undefined && auth === 'NoClientCert')
    issues.add(
      `${p}.client_ca_file`,
      'is set but client_auth_type is NoClientCert: no client certificate would be asked for',
      'set client_auth_type: RequireAndVerifyClientCert (or remove client_ca_file)',
    );
  const versions = Object.keys(TLS_VERSIONS) as TlsVersionName[];
  const min = oneOf(tls.min_version, versions, 'TLS12', `${p}.min_version`, issues);
  const max = oneOf(tls.max_version, versions, 'TLS13', `${p}.max_version`, issues);
  const given = (v: unknown) => v === undefined || v === null || versions.includes(v as TlsVersionName);
  if (given(tls.min_version) && given(tls.max_version) && versions.indexOf(min) > versions.indexOf(max))
    issues.add(`${p}.min_version`, `${min} is above max_version ${max}`, 'lower min_version or raise max_version');
  const suites = names(tls.cipher_suites, GO_CIPHER_SUITES, `${p}.cipher_suites`, issues);
  const preferServer = bool(tls.prefer_server_cipher_suites, true, `${p}.prefer_server_cipher_suites`, issues);
  const curves = names(tls.curve_preferences, GO_CURVES, `${p}.curve_preferences`, issues);
  if (cert !== undefined && key !== undefined) {
    try {
      readTlsFiles(cert, key, ca);
    } catch (err) {
      if (!(err instanceof TlsFilesError)) throw err;
      const what = { cert: 'the PEM certificate (chain) served', key: 'its unencrypted PEM private key' };
      for (const f of err.problems)
        issues.add(
          `${p}.${f.file === 'ca' ? 'client_ca' : f.file}_file`,
          f.problem,
          f.file === 'ca'
            ? 'point it at the PEM file of the CA that signs client certificates'
            : `point it at ${what[f.file]}`,
        );
    }
  }
  return {
    cert_file: cert ?? '',
    key_file: key ?? '',
    client_auth_type: auth,
    ...(ca !== undefined ? { client_ca_file: ca } : {}),
    min_version: min,
    max_version: max,
    cipher_suites: suites,
    prefer_server_cipher_suites: preferServer,
    curve_preferences: curves,
  };
}

function httpServerConfig(raw: unknown, issues: ConfigIssues): WebConfig['http_server_config'] {
  const p = 'http_server_config';
  const http = mapping(raw, p, issues) ?? {};
  checkKnownKeys(http, ['http2', 'headers'], p, issues);
  const http2 = bool(http.http2, true, `${p}.http2`, issues);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(mapping(http.headers, `${p}.headers`, issues) ?? {})) {
    const path = `${p}.headers.${name}`;
    if (!(name in HEADERS)) {
      issues.add(path, 'this header cannot be configured', `use one of: ${Object.keys(HEADERS).join(', ')}`);
      continue;
    }
    if (value === null || value === '') continue; // "Unset if blank", as exporter-toolkit documents
    const allowed = HEADERS[name];
    if (typeof value !== 'string') issues.add(path, `expected text, got ${JSON.stringify(value)}`, 'write a string');
    else if (allowed && !allowed.includes(value.toLowerCase()))
      issues.add(path, `${JSON.stringify(value)} is not allowed`, `use one of: ${allowed.join(', ')}`);
    else headers[name] = value;
  }
  return { http2, headers };
}

function basicAuthUsers(raw: unknown, issues: ConfigIssues): Record<string, string> {
  const p = 'basic_auth_users';
  const users: Record<string, string> = {};
  for (const [user, hash] of Object.entries(mapping(raw, p, issues) ?? {})) {
    const path = `${p}.${user}`;
    if (user.includes(':') || user === '') {
      issues.add(path, 'a basic-auth user name cannot be empty or contain ":"', 'rename the user');
      continue;
    }
    const m = typeof hash === 'string' ? hash.match(BCRYPT) : null;
    if (!m || Number(m[1]) < 4 || Number(m[1]) > 31) {
      issues.add(
        path,
        'is not a bcrypt hash ($2y$10$ followed by 53 characters; cost 4-31)',
        `write the hash, not the password: htpasswd -nBC 10 "" | tr -d ':\\n'`,
      );
      continue;
    }
    Object.defineProperty(users, user, { value: hash, enumerable: true });
  }
  return users;
}
