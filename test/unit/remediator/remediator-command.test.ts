// The remediator command as a real process (dry-run, no Docker Engine reachable): what it refuses before starting,
// and what a running one tells whom.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoPath } from '../../helpers/repo-path.js';
import { startProcess } from '../../helpers/start-process.js';
import { tempDir } from '../../helpers/temp-dir.js';

const MAIN = repoPath('dist/shared/cli/main.js');

function remediator(dir: string, config: string) {
  writeFileSync(join(dir, 'config.yaml'), config);
  return startProcess(process.execPath, [MAIN, 'remediator', '--config', join(dir, 'config.yaml')], {
    env: { ...process.env, SENTINEL_DOCKER_HOST: `unix://${join(dir, 'no-docker.sock')}` },
  });
}

describe('remediator command', () => {
  // Before, the first unreadable file ended the process with exit 1, after the journal, audit log and state file
  // had been created; an empty token file was taken as the token "".
  it('refuses bad files as configuration: exit 2, every problem listed, nothing written', async () => {
    const t = await tempDir('rem-files');
    try {
      writeFileSync(join(t.dir, 'garbage.pem'), 'not a certificate\n');
      mkdirSync(join(t.dir, 'key-dir'));
      writeFileSync(join(t.dir, 'empty-token'), '\n');
      const p = remediator(
        t.dir,
        `ollama:
  - {name: main, url: "http://127.0.0.1:1", ca_file: ${join(t.dir, 'no-ca.pem')}}
remediator:
  listen_address: 127.0.0.1:0
  data_dir: ${join(t.dir, 'data')}
  dry_run: true
  tls_cert_file: ${join(t.dir, 'garbage.pem')}
  tls_key_file: ${join(t.dir, 'key-dir')}
  bearer_token_file: ${join(t.dir, 'empty-token')}
  basic_auth_username: am
  basic_auth_password_file: ${join(t.dir, 'no-password')}
  notify: {url: "http://127.0.0.1:1/hook", bearer_token_file: ${join(t.dir, 'no-notify-token')}}
`,
      );
      const exit = await p.exited;
      assert.equal(exit.code, 2, p.output());
      const listed = [...p.stderr().matchAll(/^ {2}- (\S+): (.*)$/gm)].map((m) => `${m[1]}: ${m[2]}`);
      assert.deepEqual(listed, [
        `remediator.tls_cert_file: ${join(t.dir, 'garbage.pem')} is not a PEM certificate (${listed[0]!.split(' (')[1]}`,
        `remediator.tls_key_file: ${join(t.dir, 'key-dir')} is a directory, not a file`,
        `remediator.basic_auth_password_file: ${join(t.dir, 'no-password')} does not exist`,
        `remediator.bearer_token_file: ${join(t.dir, 'empty-token')} is empty`,
        `remediator.notify.bearer_token_file: ${join(t.dir, 'no-notify-token')} does not exist`,
        `ollama[0].ca_file: ${join(t.dir, 'no-ca.pem')} does not exist`,
      ]);
      assert.match(p.stderr(), /6 problems/);
      assert.equal(existsSync(join(t.dir, 'data')), false, 'no data_dir, journal, audit log or state file');
      assert.equal(p.stdout(), '', 'nothing started, nothing logged');
    } finally {
      await t.remove();
    }
  });

  it('logs one component per line, and tells /readyz reasons to authenticated callers only', async () => {
    const t = await tempDir('rem-run');
    const token = join(t.dir, 'token');
    writeFileSync(token, 'tok\n');
    const p = remediator(
      t.dir,
      `ollama:\n  - {name: main, url: "http://127.0.0.1:1"}\nremediator:\n  listen_address: 127.0.0.1:0\n  data_dir: ${join(t.dir, 'data')}\n  dry_run: true\n  bearer_token_file: ${token}\n`,
    );
    try {
      const url = (await p.waitForOutput(/listening on (http\S+) \(webhook/, 30_000)).match(
        /listening on (http\S+) /,
      )![1]!;
      const open = await fetch(`${url}/readyz`);
      assert.equal(open.status, 503, 'no Docker Engine: not ready');
      assert.equal(await open.text(), 'not ready\n');
      const authed = await fetch(`${url}/readyz`, { headers: { authorization: 'Bearer tok' } });
      assert.match(await authed.text(), /^docker: unreachable \(.*no-docker\.sock/m);
      await p.stop();
      const lines = p.stdout().trim().split('\n');
      for (const line of lines) assert.ok((line.match(/"component":/g) ?? []).length <= 1, line);
      const listening = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'listening');
      assert.equal(listening?.command, 'remediator');
      assert.equal(listening?.component, 'http');
      assert.ok(
        lines.some((l) => l.includes('"msg":"not ready"') && l.includes('no-docker.sock')),
        'the reasons are in the log',
      );
    } finally {
      await p.stop();
      await t.remove();
    }
  });
});
