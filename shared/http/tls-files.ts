import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import type { ConfigIssues } from '../config/config-issues.js';
import { readConfigFile } from './secret-files.js';

/** A certificate (chain) and its private key, PEM, checked to belong together; with the CA of client certificates. */
export interface TlsFiles {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** PEM certificates that sign the clients' certificates (mutual TLS); absent without client_ca_file. */
  readonly ca?: Buffer;
}

/** What is wrong with a certificate/key pair, per file. */
export class TlsFilesError extends Error {
  override readonly name = 'TlsFilesError';
  constructor(readonly problems: readonly { readonly file: 'cert' | 'key' | 'ca'; readonly problem: string }[]) {
    super(problems.map((p) => p.problem).join('; '));
  }
}

/**
 * Reads and checks a certificate and key: each file readable and of its kind, and the key the certificate's own; and
 * the client CA file when given. Throws TlsFilesError naming every problem, so a bad set is refused before it is served.
 */
export function readTlsFiles(certPath: string, keyPath: string, caPath?: string): TlsFiles {
  const problems: { file: 'cert' | 'key' | 'ca'; problem: string }[] = [];
  const read = (file: 'cert' | 'key' | 'ca', path: string, check: (pem: Buffer) => void): Buffer | undefined => {
    try {
      const pem = readConfigFile(path);
      check(pem);
      return pem;
    } catch (err) {
      problems.push({ file, problem: (err as Error).message });
      return undefined;
    }
  };
  const certificate = (path: string) => (pem: Buffer) => {
    try {
      new X509Certificate(pem);
    } catch (err) {
      throw new Error(`${path} is not a PEM certificate (${(err as Error).message})`, { cause: err });
    }
  };
  const cert = read('cert', certPath, certificate(certPath));
  const key = read('key', keyPath, (pem) => {
    try {
      createPrivateKey(pem);
    } catch (err) {
      throw new Error(`${keyPath} is not a PEM private key without a passphrase (${(err as Error).message})`, {
        cause: err,
      });
    }
  });
  if (cert && key) {
    try {
      createSecureContext({ cert, key });
    } catch (err) {
      problems.push({
        file: 'key',
        problem: `${keyPath} is not the private key of ${certPath} (${(err as Error).message})`,
      });
    }
  }
  const ca = caPath === undefined ? undefined : read('ca', caPath, certificate(caPath));
  if (problems.length > 0 || !cert || !key || (caPath !== undefined && !ca)) throw new TlsFilesError(problems);
  return { cert, key, ...(ca ? { ca } : {}) };
}

/** Config issues for the listener's certificate and key (`section.tls_cert_file`, `section.tls_key_file`). */
export function checkTlsFiles(section: string, certPath: string, keyPath: string, issues: ConfigIssues): void {
  try {
    readTlsFiles(certPath, keyPath);
  } catch (err) {
    if (!(err instanceof TlsFilesError)) throw err;
    for (const p of err.problems) {
      issues.add(
        `${section}.tls_${p.file}_file`,
        p.problem,
        p.file === 'cert'
          ? 'point it at the PEM certificate (chain) the server presents'
          : `point it at the unencrypted PEM private key of ${section}.tls_cert_file`,
      );
    }
  }
}

/** A config issue unless `path` holds at least one PEM certificate (a target's ca_file). */
export function checkCaFile(key: string, path: string, issues: ConfigIssues): void {
  try {
    const pem = readConfigFile(path);
    try {
      new X509Certificate(pem);
    } catch (err) {
      throw new Error(`${path} is not a PEM certificate (${(err as Error).message})`, { cause: err });
    }
  } catch (err) {
    issues.add(key, (err as Error).message, 'point it at the PEM file of the CA that signed the server certificate');
  }
}
