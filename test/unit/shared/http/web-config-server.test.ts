// The web config's TLS settings on a real HTTPS listener on 127.0.0.1, with certificates made by openssl for the test.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { request, type RequestOptions } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigIssues } from '../../../../shared/config/config-issues.js';
import { startHttpServer, type RunningServer } from '../../../../shared/http/start-http-server.js';
import { readWebConfig } from '../../../../shared/http/web-config.js';
import { createLogger } from '../../../../shared/log/create-logger.js';
import { makeTestPki, type TestPki } from '../../../helpers/make-test-pki.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { waitFor } from '../../../helpers/wait-for.js';

const log = createLogger('silent');

interface Answer {
  readonly status?: number;
  readonly headers?: Record<string, unknown>;
  readonly error?: string;
  readonly protocol?: string | null;
  readonly fingerprint?: string;
}

/** One GET on a new connection; the outcome as data (a refused handshake or reset is `error`). */
function get(port: number, opts: RequestOptions = {}): Promise<Answer> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false, ...opts }, (res) => {
      const socket = res.socket as import('node:tls').TLSSocket;
      const protocol = socket.getProtocol();
      const fingerprint = socket.getPeerX509Certificate()?.fingerprint256;
      res.resume();
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, protocol, ...(fingerprint ? { fingerprint } : {}) }),
      );
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    req.end();
  });
}

describe('web config on a real HTTPS listener', () => {
  let dir: { dir: string; remove: () => Promise<void> };
  let pki: TestPki;
  const servers: RunningServer[] = [];
  before(async () => {
    dir = await tempDir('web-config-server');
    pki = makeTestPki(dir.dir);
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.close(500)));
    await dir.remove();
  });

  async function serve(tlsLines: string[], extra = '', name = 'web.yml'): Promise<RunningServer> {
    const file = join(dir.dir, name);
    writeFileSync(file, `tls_server_config:\n${tlsLines.map((l) => `  ${l}\n`).join('')}${extra}`);
    const issues = new ConfigIssues();
    const web = readWebConfig(file, issues);
    assert.deepEqual(issues.list, []);
    const s = await startHttpServer({ listen_address: '127.0.0.1:0' }, (_req, res) => res.end('ok\n'), log, {
      web: web!,
      tlsPollMs: 50,
    });
    servers.push(s);
    return s;
  }
  const files = () => [`cert_file: ${pki.serverCertFile}`, `key_file: ${pki.serverKeyFile}`];
  const trusted = () => ({ ca: pki.ca });

  it('RequireAndVerifyClientCert: refused without a client certificate or with a stranger one, 200 with one', async () => {
    const s = await serve([
      ...files(),
      'client_auth_type: RequireAndVerifyClientCert',
      `client_ca_file: ${pki.caFile}`,
    ]);
    assert.ok((await get(s.port, trusted())).error, 'no client certificate: refused');
    assert.ok((await get(s.port, { ...trusted(), ...pki.stranger })).error, 'a certificate of another CA: refused');
    assert.equal((await get(s.port, { ...trusted(), ...pki.client })).status, 200);
  });

  it('RequireAnyClientCert wants a certificate, VerifyClientCertIfGiven a verified one when one is sent', async () => {
    const any = await serve([...files(), 'client_auth_type: RequireAnyClientCert'], '', 'any.yml');
    assert.ok((await get(any.port, trusted())).error, 'no certificate: refused');
    assert.equal((await get(any.port, { ...trusted(), ...pki.stranger })).status, 200, 'any certificate will do');
    const ifGiven = await serve(
      [...files(), 'client_auth_type: VerifyClientCertIfGiven', `client_ca_file: ${pki.caFile}`],
      '',
      'if-given.yml',
    );
    assert.equal((await get(ifGiven.port, trusted())).status, 200, 'no certificate: fine');
    assert.equal((await get(ifGiven.port, { ...trusted(), ...pki.client })).status, 200);
    assert.ok((await get(ifGiven.port, { ...trusted(), ...pki.stranger })).error, 'an unverified one: refused');
  });

  it('honours min_version and max_version, and adds the configured headers', async () => {
    const s = await serve(
      [...files(), 'min_version: TLS13'],
      'http_server_config:\n  headers:\n    X-Frame-Options: deny\n    X-Content-Type-Options: nosniff\n',
      'tls13.yml',
    );
    assert.ok((await get(s.port, { ...trusted(), maxVersion: 'TLSv1.2' })).error, 'a TLS 1.2 client is refused');
    const ok = await get(s.port, trusted());
    assert.equal(ok.protocol, 'TLSv1.3');
    assert.equal(ok.headers?.['x-frame-options'], 'deny');
    assert.equal(ok.headers?.['x-content-type-options'], 'nosniff');
    const capped = await serve([...files(), 'max_version: TLS12'], '', 'tls12.yml');
    assert.equal((await get(capped.port, trusted())).protocol, 'TLSv1.2');
  });

  it('picks up a rotated server certificate and client CA from their files', async () => {
    const cert = join(dir.dir, 'rot-cert.pem');
    const key = join(dir.dir, 'rot-key.pem');
    const ca = join(dir.dir, 'rot-ca.pem');
    copyFileSync(pki.serverCertFile, cert);
    copyFileSync(pki.serverKeyFile, key);
    copyFileSync(pki.caFile, ca);
    const s = await serve(
      [
        `cert_file: ${cert}`,
        `key_file: ${key}`,
        'client_auth_type: RequireAndVerifyClientCert',
        `client_ca_file: ${ca}`,
      ],
      '',
      'rotate.yml',
    );
    const before = await get(s.port, { ...trusted(), ...pki.client });
    assert.equal(before.status, 200);
    assert.ok((await get(s.port, { ...trusted(), ...pki.stranger })).error);

    // A new generation: server certificate and client CA both change; the old client is now the stranger.
    mkdirSync(join(dir.dir, 'next'));
    const next = makeTestPki(join(dir.dir, 'next'));
    copyFileSync(next.serverKeyFile, key);
    copyFileSync(next.serverCertFile, cert);
    copyFileSync(next.caFile, ca);
    await waitFor(async () => (await get(s.port, { ca: next.ca, ...next.client })).status === 200, {
      timeoutMs: 5000,
      intervalMs: 50,
      what: 'the rotated certificates',
    });
    const after = await get(s.port, { ca: next.ca, ...next.client });
    assert.notEqual(after.fingerprint, before.fingerprint, 'the new server certificate is served');
    assert.ok((await get(s.port, { ca: next.ca, ...pki.client })).error, 'the old CA no longer admits its client');
    // The three copies are not one atomic change: a poll between them may count a failed reload; the last one is good.
    assert.equal(s.tls?.().lastReloadOk, true);
  });
});
