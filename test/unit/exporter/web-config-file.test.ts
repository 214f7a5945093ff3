// `ollama-sentinel exporter --web.config.file FILE` as a real process: HTTPS with bcrypt users, and the refusals.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { makeTestPki, type TestPki } from '../../helpers/make-test-pki.js';
import { startProcess } from '../../helpers/start-process.js';
import { MAIN, startRealExporter } from '../../helpers/start-real-exporter.js';
import { tempDir } from '../../helpers/temp-dir.js';

// Nothing to reach and no GPU: only the listener matters here.
const CONFIG =
  'ollama:\n  - name: main\n    url: http://127.0.0.1:1\nexporter:\n  listen_address: 127.0.0.1:0\n' +
  '  collector_gpu: false\n  collector_gpu_processes: false\n  collector_probe: false\n  collector_containers: false\n';

function get(url: string, ca: string, auth?: string): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, agent: false, ...(auth ? { auth } : {}) }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('exporter --web.config.file', () => {
  let dir: { dir: string; remove: () => Promise<void> };
  let pki: TestPki;
  before(async () => {
    dir = await tempDir('exporter-web-config');
    pki = makeTestPki(dir.dir);
  });
  after(() => dir.remove());

  const exit = async (args: string[], config = CONFIG) => {
    writeFileSync(join(dir.dir, 'config.yaml'), config);
    const proc = startProcess(process.execPath, [MAIN, 'exporter', '--config', join(dir.dir, 'config.yaml'), ...args]);
    const { code } = await proc.exited;
    return { code, stderr: proc.stderr() };
  };

  it('serves HTTPS to the configured users only; health stays open, the headers are sent', async (t) => {
    const web = join(dir.dir, 'web.yml');
    writeFileSync(
      web,
      `tls_server_config:\n  cert_file: ${pki.serverCertFile}\n  key_file: ${pki.serverKeyFile}\n` +
        'http_server_config:\n  headers:\n    X-Content-Type-Options: nosniff\n' +
        `basic_auth_users:\n  prometheus: ${bcrypt.hashSync('scrape-pw', 4)}\n`,
    );
    const exporter = await startRealExporter(dir.dir, CONFIG, '', [`--web.config.file=${web}`]);
    t.after(() => exporter.proc.stop());
    assert.match(exporter.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const metrics = `${exporter.url}/metrics`;
    assert.equal((await get(metrics, pki.ca)).status, 401);
    assert.equal((await get(metrics, pki.ca, 'prometheus:wrong')).status, 401);
    assert.equal((await get(metrics, pki.ca, 'grafana:scrape-pw')).status, 401);
    const ok = await get(metrics, pki.ca, 'prometheus:scrape-pw');
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['x-content-type-options'], 'nosniff');
    assert.equal((await get(`${exporter.url}/healthz`, pki.ca)).status, 200, 'liveness needs no credentials');
  });

  it('refuses (exit 2) the file with the listener basic-auth keys, naming them', async () => {
    writeFileSync(join(dir.dir, 'empty.yml'), '');
    const r = await exit(
      [`--web.config.file=${join(dir.dir, 'empty.yml')}`],
      `${CONFIG}  basic_auth_username: u\n  basic_auth_password_file: /p\n`,
    );
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /exporter\.web_config_file: conflicts with exporter\.basic_auth_username, exporter\.basic_auth_password_file/,
    );
  });

  it('refuses (exit 2) a bad file with every problem listed, and the flag given twice', async () => {
    const bad = join(dir.dir, 'bad.yml');
    writeFileSync(bad, 'tls_server_config:\n  min_version: TLS9\nbasic_auth_users:\n  u: plain\n');
    const r = await exit(['--web.config.file', bad]);
    assert.equal(r.code, 2, r.stderr);
    for (const key of ['cert_file', 'key_file', 'min_version'])
      assert.match(r.stderr, new RegExp(`bad\\.yml: tls_server_config\\.${key}:`));
    assert.match(r.stderr, /bad\.yml: basic_auth_users\.u: is not a bcrypt hash/);
    assert.match(r.stderr, /4 problems/);
    const twice = await exit([`--web.config.file=${bad}`, `--exporter.web-config-file=${bad}`]);
    assert.equal(twice.code, 2);
    assert.match(twice.stderr, /--web\.config\.file and --exporter\.web-config-file are the same setting/);
  });
});
