import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { exporterSection } from '../../../../exporter/exporter-section.js';
import { ConfigError, ConfigIssues } from '../../../../shared/config/config-issues.js';
import { loadConfig } from '../../../../shared/config/load-config.js';
import { readWebConfig } from '../../../../shared/http/web-config.js';
import { webTlsOptions } from '../../../../shared/http/web-tls-options.js';
import { makeTestPki, type TestPki } from '../../../helpers/make-test-pki.js';
import { tempDir } from '../../../helpers/temp-dir.js';

describe('web config file (exporter-toolkit format)', () => {
  let dir: { dir: string; remove: () => Promise<void> };
  let pki: TestPki;
  const hash = bcrypt.hashSync('secret', 4);
  before(async () => {
    dir = await tempDir('web-config');
    pki = makeTestPki(dir.dir);
  });
  after(() => dir.remove());

  const read = (yaml: string) => {
    const file = join(dir.dir, 'web.yml');
    writeFileSync(file, yaml);
    const issues = new ConfigIssues();
    const config = readWebConfig(file, issues);
    return { file, config, issues: issues.list };
  };

  it('reads every supported key', () => {
    const { config, issues } = read(
      [
        'tls_server_config:',
        `  cert_file: ${pki.serverCertFile}`,
        `  key_file: ${pki.serverKeyFile}`,
        '  client_auth_type: RequireAndVerifyClientCert',
        `  client_ca_file: ${pki.caFile}`,
        '  min_version: TLS13',
        '  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256]',
        '  prefer_server_cipher_suites: false',
        '  curve_preferences: [X25519, CurveP256]',
        'http_server_config:',
        '  http2: false',
        '  headers:',
        '    X-Frame-Options: deny',
        '    Strict-Transport-Security: max-age=31536000',
        '    Content-Security-Policy: ""',
        'basic_auth_users:',
        `  prometheus: ${hash}`,
      ].join('\n'),
    );
    assert.deepEqual(issues, []);
    assert.deepEqual(config, {
      tls_server_config: {
        cert_file: pki.serverCertFile,
        key_file: pki.serverKeyFile,
        client_auth_type: 'RequireAndVerifyClientCert',
        client_ca_file: pki.caFile,
        min_version: 'TLS13',
        max_version: 'TLS13',
        cipher_suites: ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'TLS_AES_128_GCM_SHA256'],
        prefer_server_cipher_suites: false,
        curve_preferences: ['X25519', 'CurveP256'],
      },
      http_server_config: {
        http2: false,
        headers: { 'X-Frame-Options': 'deny', 'Strict-Transport-Security': 'max-age=31536000' },
      },
      basic_auth_users: { prometheus: hash },
    });
    const opts = webTlsOptions(config!.tls_server_config!);
    assert.deepEqual(opts.server, { requestCert: true, rejectUnauthorized: true });
    const ctx = opts.context({ cert: Buffer.from('c'), key: Buffer.from('k'), ca: Buffer.from('a') });
    assert.equal(ctx.ciphers, 'ECDHE-ECDSA-AES128-GCM-SHA256', 'TLS 1.3 suites keep the defaults, as in Go');
    assert.equal(ctx.ecdhCurve, 'X25519:P-256');
    assert.deepEqual([ctx.minVersion, ctx.maxVersion, ctx.honorCipherOrder], ['TLSv1.3', 'TLSv1.3', false]);
  });

  it('an empty file is plain HTTP without basic auth', () => {
    assert.deepEqual(read('').config, {
      http_server_config: { http2: true, headers: {} },
      basic_auth_users: {},
    });
  });

  it('lists every problem at once, each with its key and a fix', () => {
    const { file, config, issues } = read(
      [
        'tls_server_config:',
        `  cert_file: ${join(dir.dir, 'missing.pem')}`,
        `  key_file: ${pki.serverKeyFile}`,
        '  client_auth_type: VerifyClientCert',
        '  client_ca_file: ""',
        '  min_version: TLS14',
        '  max_version: TLS11',
        '  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]',
        '  client_allowed_sans: [prometheus]',
        '  cert: inline',
        'http_server_config:',
        '  http2: maybe',
        '  headers:',
        '    X-Frame-Options: allow',
        '    X-Powered-By: me',
        '  hedaers: {}',
        'basic_auth_users:',
        '  alice: secret',
        '  "bob:x": ' + hash,
        'rate_limit: {interval: 1s}',
        'tls_config: {}',
      ].join('\n'),
    );
    assert.equal(config, undefined);
    const at = (key: string) => issues.filter((i) => i.path === `${file}: ${key}`);
    const expected = [
      'tls_server_config.cert_file',
      'tls_server_config.client_auth_type',
      'tls_server_config.client_ca_file',
      'tls_server_config.min_version',
      'tls_server_config.cipher_suites[0]',
      'tls_server_config.client_allowed_sans',
      'tls_server_config.cert',
      'http_server_config.http2',
      'http_server_config.headers.X-Frame-Options',
      'http_server_config.headers.X-Powered-By',
      'http_server_config.hedaers',
      'basic_auth_users.alice',
      'basic_auth_users.bob:x',
      'rate_limit',
      'tls_config',
    ];
    for (const key of expected) assert.ok(at(key).length > 0, `no issue for ${key}: ${JSON.stringify(issues)}`);
    assert.equal(issues.length, expected.length, JSON.stringify(issues, null, 1));
    for (const i of issues) assert.ok(i.fix.length > 10, `${i.path} has a fix`);
    assert.match(at('tls_server_config.cert_file')[0]!.problem, /missing\.pem does not exist/);
    assert.match(at('tls_server_config.min_version')[0]!.problem, /"TLS14" is not one of TLS10, TLS11, TLS12, TLS13/);
    assert.match(at('basic_auth_users.alice')[0]!.fix, /htpasswd -nBC 10/);
    assert.match(at('rate_limit')[0]!.problem, /not supported by ollama-sentinel/);
    assert.match(at('http_server_config.hedaers')[0]!.fix, /did you mean "headers"/);
  });

  it('refuses half a TLS pair, a CA without client auth, a verifying mode without a CA, duplicate keys', () => {
    const half = read(`tls_server_config:\n  cert_file: ${pki.serverCertFile}\n`).issues;
    assert.deepEqual(
      half.map((i) => i.path.split(': ')[1]),
      ['tls_server_config.key_file'],
    );
    const mtls = read(
      `tls_server_config:\n  cert_file: ${pki.serverCertFile}\n  key_file: ${pki.serverKeyFile}\n` +
        '  client_auth_type: RequireAndVerifyClientCert\n',
    ).issues;
    assert.match(mtls[0]!.problem, /client_auth_type RequireAndVerifyClientCert verifies client certificates/);
    const noAuth = read(
      `tls_server_config:\n  cert_file: ${pki.serverCertFile}\n  key_file: ${pki.serverKeyFile}\n` +
        `  client_ca_file: ${pki.caFile}\n`,
    ).issues;
    assert.match(noAuth[0]!.problem, /client_auth_type is NoClientCert/);
    const badCa = read(
      `tls_server_config:\n  cert_file: ${pki.serverCertFile}\n  key_file: ${pki.serverKeyFile}\n` +
        `  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ${pki.serverKeyFile}\n`,
    ).issues;
    assert.deepEqual(
      badCa.map((i) => [i.path.split(': ')[1], /is not a PEM certificate/.test(i.problem)]),
      [['tls_server_config.client_ca_file', true]],
    );
    const dup = read(`basic_auth_users:\n  a: ${hash}\n  a: ${hash}\n`).issues;
    assert.match(dup[0]!.problem, /YAML syntax error: .*unique/i);
  });

  it('the web config file together with the listener TLS or basic-auth keys is a config error naming them', () => {
    const input = (exporter: Record<string, string>) => ({
      flags: new Map<string, string>(),
      env: {},
      sections: [exporterSection],
      file: 'config.yaml',
      readFile: () =>
        `exporter:\n${Object.entries(exporter)
          .map(([k, v]) => `  ${k}: ${v}\n`)
          .join('')}`,
    });
    assert.throws(
      () =>
        loadConfig(
          input({
            web_config_file: '/etc/web.yml',
            tls_cert_file: '/c',
            tls_key_file: '/k',
            basic_auth_username: 'u',
            basic_auth_password_file: '/p',
          }),
        ),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.deepEqual(
          err.issues.map((i) => i.path),
          ['exporter.web_config_file'],
        );
        assert.match(
          err.issues[0]!.problem,
          /conflicts with exporter\.tls_cert_file, exporter\.tls_key_file, exporter\.basic_auth_username, exporter\.basic_auth_password_file/,
        );
        return true;
      },
    );
    const alone = loadConfig(input({ web_config_file: '/etc/web.yml' }));
    assert.equal((alone.exporter as { web_config_file: string }).web_config_file, '/etc/web.yml');
  });
});
