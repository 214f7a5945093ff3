// The exporter as a real process: clean shutdown on SIGTERM and SIGINT, bad configuration refused with every
// problem listed, and the listener's TLS and basic auth.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { alive } from '../../../../shared/proc/read-process-identity.js';
import { startOllamaSim } from '../../../sim/ollama-sim.js';
import { defaultH100State, writeGpuState } from '../../../sim/gpu-state.js';
import { startProcess, type ProcessExit } from '../../../helpers/start-process.js';
import { waitFor } from '../../../helpers/wait-for.js';
import { FAKE_NVIDIA_SMI, MAIN, startRealExporter } from '../../../helpers/start-real-exporter.js';

const WARM = 'qwen2.5:0.5b';

type Cleanup = (fn: () => unknown) => void;

/**
 * A temp dir with a GPU state file, and a cleanup stack run last-in first-out after the test (t.after runs hooks
 * in registration order, and the exporter must stop before the simulator, which must stop before its dir goes).
 */
function setUp(t: { after: (fn: () => Promise<void>) => void }): { dir: string; stateFile: string; cleanup: Cleanup } {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-e2e-proc-'));
  const stack: (() => unknown)[] = [() => rmSync(dir, { recursive: true, force: true })];
  t.after(async () => {
    let first: Error | undefined;
    for (const fn of stack.reverse()) {
      try {
        await fn();
      } catch (err) {
        first ??= err instanceof Error ? err : new Error(String(err));
      }
    }
    if (first !== undefined) throw first as Error;
  });
  const stateFile = join(dir, 'gpu.state');
  writeGpuState(stateFile, defaultH100State());
  return { dir, stateFile, cleanup: (fn) => void stack.push(fn) };
}

function configFor(simUrl: string, exporterExtra = ''): string {
  return `ollama:
  - name: main
    url: ${simUrl}
models:
  - name: ${WARM}
    keep_warm: true
gpu:
  nvidia_smi: ${FAKE_NVIDIA_SMI}
  interval: 1s
exporter:
  listen_address: 127.0.0.1:0
  ollama_interval: 1s
  probe_interval: 1s
${exporterExtra}`;
}

/** An exit, or a clear failure when the process does not end in time (a test must not hang on it). */
async function exitWithin(exited: Promise<ProcessExit>, ms: number): Promise<ProcessExit> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the process did not exit within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

const jsonLines = (text: string) =>
  text.split('\n').flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(
    `${signal}: exit 0 after a clean stop, listener closed, the probed runner left loaded and nothing unloaded`,
    { timeout: 60_000 },
    async (t) => {
      const { dir, stateFile, cleanup } = setUp(t);
      const sim = await startOllamaSim({ gpuStateFile: stateFile, models: [WARM] });
      cleanup(() => sim.close());
      const ex = await startRealExporter(dir, configFor(sim.url), stateFile);
      cleanup(() => ex.proc.stop());
      await waitFor(
        async () => /sentinel_probe_success\{[^}]*\} 1/.test(await (await fetch(`${ex.url}/metrics`)).text()),
        { timeoutMs: 20_000, intervalMs: 200, what: `a successful probe\n${ex.proc.output().slice(-2000)}` },
      );
      const runner = (await sim.control.state()).runners.find((r) => r.name === WARM)!;
      assert.ok(runner.pid !== undefined && alive(runner.pid));
      await sim.control.clearRequests();

      process.kill(ex.proc.pid!, signal); // the process only, as an init system or a terminal would
      const exit = await exitWithin(ex.proc.exited, 15_000);
      assert.deepEqual(
        { code: exit.code, signal: exit.signal },
        { code: 0, signal: null },
        ex.proc.output().slice(-2000),
      );

      const logs = jsonLines(ex.proc.stdout());
      assert.ok(
        logs.some((l) => l.msg === 'shutting down' && l.signal === signal),
        'the signal is logged',
      );
      assert.ok(
        logs.some((l) => l.msg === 'exporter stopped'),
        'the stop completed before exit',
      );
      assert.equal(
        logs.some((l) => l.level === 'fatal' || l.level === 'error'),
        false,
        'no error on the way out',
      );
      await assert.rejects(fetch(`${ex.url}/healthz`), 'the listener is closed');

      // The exporter observes: its shutdown leaves the model it probed exactly as it was.
      assert.equal(alive(runner.pid!), true, 'the runner process is left alone');
      const after = (await sim.control.state()).runners.find((r) => r.name === WARM);
      assert.equal(after?.pid, runner.pid, 'still loaded, same runner');
      const unloads = (await sim.control.requests()).filter(
        (r) => (r.body as { keep_alive?: unknown } | undefined)?.keep_alive === 0 || r.method === 'DELETE',
      );
      assert.deepEqual(unloads, [], 'no unload or delete on shutdown');
    },
  );
}

test(
  'bad configuration: exit 2 before listening, every problem listed on stderr with its fix',
  { timeout: 60_000 },
  async (t) => {
    const { dir } = setUp(t);
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      `ollama:
  - name: main
    url: not a url
models:
  - name: llama3
    keep_alive: "3600"
    min_vram_ratio: 2
gpu:
  interval: fast
exporter:
  max_concurrent_scrapes: 0
  bogus_key: 1
`,
    );
    const r = await execa(process.execPath, [MAIN, 'exporter', '--config', file, '--exporter.probe-interval=soon'], {
      reject: false,
      timeout: 20_000,
    });
    assert.equal(r.exitCode, 2, r.stderr);
    const expected = [
      'ollama[0].url',
      'models[0].keep_alive',
      'models[0].min_vram_ratio',
      'gpu.interval',
      'exporter.bogus_key',
      'exporter.max_concurrent_scrapes',
      '--exporter.probe-interval',
    ];
    const listed = [...r.stderr.matchAll(/^ {2}- (\S+): /gm)].map((m) => m[1]);
    assert.deepEqual([...listed].sort(), [...expected].sort(), r.stderr);
    assert.match(r.stderr, new RegExp(`${expected.length} problems`));
    assert.equal((r.stderr.match(/^ {6}fix: \S/gm) ?? []).length, expected.length, 'each problem says how to fix it');
    assert.doesNotMatch(r.stderr, /listening/);
    assert.equal(r.stdout, '', 'nothing started, nothing logged');
  },
);

// Without these checks an unparsable listen address failed later with exit 1, and half a TLS or basic-auth pair
// silently served plain, unauthenticated HTTP.
test(
  'half-configured TLS or basic auth, or an unparsable listen address, is a configuration error (exit 2)',
  { timeout: 60_000 },
  async (t) => {
    const { dir, stateFile, cleanup } = setUp(t);
    const cases = {
      'exporter.listen_address': 'listen_address: nowhere',
      'exporter.tls_key_file': `listen_address: 127.0.0.1:0\n  tls_cert_file: ${join(dir, 'cert.pem')}`,
      'exporter.basic_auth_password_file': 'listen_address: 127.0.0.1:0\n  basic_auth_username: admin',
    };
    const wrong: string[] = [];
    for (const [path, lines] of Object.entries(cases)) {
      writeFileSync(join(dir, 'c.yaml'), `gpu:\n  nvidia_smi: ${FAKE_NVIDIA_SMI}\nexporter:\n  ${lines}\n`);
      const p = startProcess(process.execPath, [MAIN, 'exporter', '--config', join(dir, 'c.yaml')], {
        env: { ...process.env, SENTINEL_FAKE_GPU_STATE: stateFile },
      });
      cleanup(() => p.stop());
      const outcome = await waitFor(
        () => (!p.running() ? 'exited' : /listening on/.test(p.stderr()) ? 'listening' : false),
        { timeoutMs: 15_000, intervalMs: 50, what: `${path} outcome` },
      );
      const exit = outcome === 'exited' ? await p.exited : await p.stop();
      if (outcome !== 'exited' || exit.code !== 2 || !p.stderr().includes(path))
        wrong.push(`${path}: ${outcome}, exit ${exit.code ?? exit.signal}`);
    }
    assert.deepEqual(wrong, []);
  },
);

// Before, the first unreadable file ended the exporter with exit 1 and a stack trace, the others unseen.
test(
  'files it cannot use (a garbage certificate, a key that is a directory, an empty password) are configuration errors: exit 2, all listed',
  { timeout: 60_000 },
  async (t) => {
    const { dir, stateFile, cleanup } = setUp(t);
    writeFileSync(join(dir, 'cert.pem'), 'not a certificate\n');
    mkdirSync(join(dir, 'key.pem'));
    writeFileSync(join(dir, 'password'), '');
    writeFileSync(
      join(dir, 'c.yaml'),
      `gpu:\n  nvidia_smi: ${FAKE_NVIDIA_SMI}\nexporter:\n  listen_address: 127.0.0.1:0\n  tls_cert_file: ${join(dir, 'cert.pem')}\n  tls_key_file: ${join(dir, 'key.pem')}\n  basic_auth_username: prom\n  basic_auth_password_file: ${join(dir, 'password')}\n`,
    );
    const p = startProcess(process.execPath, [MAIN, 'exporter', '--config', join(dir, 'c.yaml')], {
      env: { ...process.env, SENTINEL_FAKE_GPU_STATE: stateFile },
    });
    cleanup(() => p.stop());
    const exit = await p.exited;
    assert.equal(exit.code, 2, p.output());
    const listed = [...p.stderr().matchAll(/^ {2}- (\S+): (.*)$/gm)].map((m) => [m[1], m[2]]);
    assert.deepEqual(
      listed.map(([path]) => path),
      ['exporter.tls_cert_file', 'exporter.tls_key_file', 'exporter.basic_auth_password_file'],
      p.stderr(),
    );
    assert.match(p.stderr(), /cert\.pem is not a PEM certificate/);
    assert.match(p.stderr(), /key\.pem is a directory, not a file/);
    assert.match(p.stderr(), /password is empty/);
    assert.equal(p.stdout(), '', 'nothing started, nothing logged');
  },
);

test(
  'TLS with basic auth: 401 without or with wrong credentials, 200 with them, health open; the self-signed cert is really served',
  { timeout: 60_000 },
  async (t) => {
    const { dir, stateFile, cleanup } = setUp(t);
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    const openssl = await execa(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { reject: false, timeout: 20_000 },
    );
    if ((openssl as { code?: string }).code === 'ENOENT' || openssl.exitCode === undefined) {
      t.skip('openssl is not installed: cannot make a self-signed certificate for the TLS test');
      return;
    }
    assert.equal(openssl.exitCode, 0, openssl.stderr);
    writeFileSync(join(dir, 'password'), 's3cret pass\n');
    const sim = await startOllamaSim({ gpuStateFile: stateFile, models: [WARM] });
    cleanup(() => sim.close());
    const ex = await startRealExporter(
      dir,
      configFor(
        sim.url,
        `  tls_cert_file: ${cert}\n  tls_key_file: ${key}\n  basic_auth_username: prom\n  basic_auth_password_file: ${join(dir, 'password')}\n`,
      ),
      stateFile,
    );
    cleanup(() => ex.proc.stop());
    assert.match(ex.url, /^https:\/\//);
    const ca = (await import('node:fs')).readFileSync(cert);
    const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

    const none = await httpsGet(`${ex.url}/metrics`, { ca });
    assert.equal(none.status, 401);
    assert.match(String(none.headers['www-authenticate']), /^Basic realm=/);
    assert.equal((await httpsGet(`${ex.url}/metrics`, { ca, authorization: basic('prom', 'wrong') })).status, 401);
    assert.equal(
      (await httpsGet(`${ex.url}/metrics`, { ca, authorization: basic('other', 's3cret pass') })).status,
      401,
    );
    assert.equal((await httpsGet(`${ex.url}/api/state`, { ca })).status, 401, 'the state document is protected too');
    const ok = await httpsGet(`${ex.url}/metrics`, { ca, authorization: basic('prom', 's3cret pass') });
    assert.equal(ok.status, 200, 'the trailing newline of the password file is not part of the password');
    assert.match(ok.body, /^sentinel_build_info\{/m);
    assert.match(ok.body, /^sentinel_exporter_tls_reload_success 1$/m, 'the certificate served is the one on disk');
    assert.match(ok.body, /^sentinel_exporter_tls_reload_errors_total 0$/m);
    assert.equal((await httpsGet(`${ex.url}/healthz`, { ca })).status, 200, 'liveness stays open for orchestrators');

    await assert.rejects(
      httpsGet(`${ex.url}/healthz`, {}),
      'an untrusted self-signed certificate is refused: TLS is real',
    );
    const plain = await fetch(`${ex.url.replace('https:', 'http:')}/metrics`).then(
      (r) => r.status,
      () => 'refused',
    );
    assert.notEqual(plain, 200, 'no plain HTTP on the TLS port');
  },
);

function httpsGet(
  url: string,
  opts: { ca?: Buffer; authorization?: string },
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        ca: opts.ca,
        headers: opts.authorization ? { authorization: opts.authorization } : {},
        agent: false,
        timeout: 10_000,
      },
      (res) => {
        let body = '';
        res
          .setEncoding('utf8')
          .on('data', (c: string) => (body += c))
          .on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}
