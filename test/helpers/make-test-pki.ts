import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** PEM files written by makeTestPki, by path, and the same text. */
export interface TestPki {
  readonly caFile: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  /** Signed by the CA: a client mutual TLS accepts. */
  readonly client: { readonly cert: string; readonly key: string };
  /** Signed by another CA: a client mutual TLS refuses. */
  readonly stranger: { readonly cert: string; readonly key: string };
  readonly ca: string;
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: 'pipe', timeout: 20_000 });
}

/** A self-signed CA (EC P-256, valid one day) named `name`, written as `name.pem` and `name-key.pem` in `dir`. */
function makeCa(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}-key.pem`);
  openssl([
    ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
    ...['-keyout', key, '-out', cert, '-days', '1', '-subj', `/CN=${name}`],
    ...['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign'],
  ]);
  return { cert, key };
}

/** A leaf certificate for `cn` signed by `ca`, with extensions `ext` (an openssl extension file's lines). */
function makeLeaf(dir: string, name: string, cn: string, ca: { cert: string; key: string }, ext: string[]) {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}-key.pem`);
  const csr = join(dir, `${name}.csr`);
  const extFile = join(dir, `${name}.ext`);
  writeFileSync(extFile, `${ext.join('\n')}\n`);
  openssl([
    ...['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
    ...['-keyout', key, '-out', csr, '-subj', `/CN=${cn}`],
  ]);
  openssl([
    ...['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial'],
    ...['-out', cert, '-days', '1', '-extfile', extFile],
  ]);
  return { cert, key };
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate signed by it, and a stranger client. */
export function makeTestPki(dir: string): TestPki {
  const ca = makeCa(dir, 'ca');
  const server = makeLeaf(dir, 'server', '127.0.0.1', ca, [
    'subjectAltName=IP:127.0.0.1',
    'extendedKeyUsage=serverAuth',
  ]);
  const client = makeLeaf(dir, 'client', 'prometheus', ca, ['extendedKeyUsage=clientAuth']);
  const other = makeCa(dir, 'other-ca');
  const stranger = makeLeaf(dir, 'stranger', 'prometheus', other, ['extendedKeyUsage=clientAuth']);
  const text = (p: string) => readFileSync(p, 'utf8');
  return {
    caFile: ca.cert,
    serverCertFile: server.cert,
    serverKeyFile: server.key,
    client: { cert: text(client.cert), key: text(client.key) },
    stranger: { cert: text(stranger.cert), key: text(stranger.key) },
    ca: text(ca.cert),
  };
}
