import type { SecureContextOptions, SecureVersion, TlsOptions } from 'node:tls';
import type { TlsFiles } from './tls-files.js';

/** exporter-toolkit's version names -> Node's. */
export const TLS_VERSIONS = {
  TLS10: 'TLSv1',
  TLS11: 'TLSv1.1',
  TLS12: 'TLSv1.2',
  TLS13: 'TLSv1.3',
} as const satisfies Record<string, SecureVersion>;
export type TlsVersionName = keyof typeof TLS_VERSIONS;

/**
 * Go's names of the cipher suites crypto/tls.CipherSuites() lists -> OpenSSL's. TLS 1.3 suites map to '' because Go
 * does not let them be configured either: TLS 1.3 keeps Node's defaults whatever the list says.
 */
export const GO_CIPHER_SUITES: Readonly<Record<string, string>> = {
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_AES_128_GCM_SHA256: '',
  TLS_AES_256_GCM_SHA384: '',
  TLS_CHACHA20_POLY1305_SHA256: '',
};

/** Go's curve names -> OpenSSL's. */
export const GO_CURVES: Readonly<Record<string, string>> = {
  CurveP256: 'P-256',
  CurveP384: 'P-384',
  CurveP521: 'P-521',
  X25519: 'X25519',
};

/** Go's tls.ClientAuthType names, as exporter-toolkit spells them. */
export const CLIENT_AUTH_TYPES = [
  'NoClientCert',
  'RequestClientCert',
  'RequireAnyClientCert',
  'VerifyClientCertIfGiven',
  'RequireAndVerifyClientCert',
] as const;
export type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number];

/** `tls_server_config:` of an exporter-toolkit web config file, validated (keys keep their YAML spelling). */
export interface WebTlsServerConfig {
  readonly cert_file: string;
  readonly key_file: string;
  readonly client_auth_type: ClientAuthType;
  readonly client_ca_file?: string;
  readonly min_version: TlsVersionName;
  readonly max_version: TlsVersionName;
  /** Go names of TLS 1.2 suites; empty = Node's defaults. */
  readonly cipher_suites: readonly string[];
  readonly prefer_server_cipher_suites: boolean;
  /** Go names; empty = Node's defaults. */
  readonly curve_preferences: readonly string[];
}

/** The secure-context part (re-applied with the files on every rotation) and the server part (fixed at start). */
export interface WebTlsOptions {
  readonly context: (files: TlsFiles) => SecureContextOptions;
  readonly server: Pick<TlsOptions, 'requestCert' | 'rejectUnauthorized'>;
}

/** Node's TLS options for a web config's tls_server_config. */
export function webTlsOptions(tls: WebTlsServerConfig): WebTlsOptions {
  const ciphers = tls.cipher_suites.map((s) => GO_CIPHER_SUITES[s]).filter(Boolean);
  const curves = tls.curve_preferences.map((c) => GO_CURVES[c]);
  const fixed: SecureContextOptions = {
    minVersion: TLS_VERSIONS[tls.min_version],
    maxVersion: TLS_VERSIONS[tls.max_version],
    honorCipherOrder: tls.prefer_server_cipher_suites,
    ...(ciphers.length > 0 ? { ciphers: ciphers.join(':') } : {}),
    ...(curves.length > 0 ? { ecdhCurve: curves.join(':') } : {}),
  };
  return {
    context: (files) => ({ ...fixed, cert: files.cert, key: files.key, ...(files.ca ? { ca: files.ca } : {}) }),
    server: {
      requestCert: tls.client_auth_type !== 'NoClientCert',
      // Only this mode has OpenSSL refuse the handshake; the others are enforced per connection (clientCertRefusal).
      rejectUnauthorized: tls.client_auth_type === 'RequireAndVerifyClientCert',
    },
  };
}

/**
 * Why a connection that completed its handshake is refused under the client_auth_type, or undefined to accept it:
 * RequireAnyClientCert wants a certificate (any, unverified), VerifyClientCertIfGiven a verified one when one is sent.
 */
export function clientCertRefusal(mode: ClientAuthType, sent: boolean, authorized: boolean): string | undefined {
  if (mode === 'RequireAnyClientCert' && !sent) return 'no client certificate sent (RequireAnyClientCert)';
  if (mode === 'VerifyClientCertIfGiven' && sent && !authorized)
    return 'client certificate not signed by client_ca_file (VerifyClientCertIfGiven)';
  if (mode === 'RequireAndVerifyClientCert' && !authorized)
    return 'no client certificate signed by client_ca_file (RequireAndVerifyClientCert)';
  return undefined;
}
