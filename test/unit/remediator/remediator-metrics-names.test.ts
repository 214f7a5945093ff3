// The remediator's /metrics follows the same contract as the exporter's: promtool-clean and the naming lint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { findFreePort } from '../../helpers/find-free-port.js';
import { startProcess } from '../../helpers/start-process.js';
import { waitForUrl } from '../../helpers/wait-for-url.js';
import { checkMetricNames } from '../../lint/metric-name-rules.js';

const repo = fileURLToPath(new URL('../../../../', import.meta.url));

test('the real remediator process serves promtool-clean, lint-clean metrics', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-rem-metrics-'));
  const port = await findFreePort();
  writeFileSync(join(dir, 'token'), 'test-token\n');
  writeFileSync(
    join(dir, 'config.yaml'),
    `ollama:\n  - name: main\n    url: http://127.0.0.1:1\nremediator:\n  listen_address: 127.0.0.1:${port}\n  bearer_token_file: ${join(dir, 'token')}\n  data_dir: ${join(dir, 'data')}\n`,
  );
  const proc = startProcess(
    process.execPath,
    [join(repo, 'dist/shared/cli/main.js'), 'remediator', '--config', join(dir, 'config.yaml')],
    {
      env: {
        ...process.env,
        SENTINEL_LOG_LEVEL: 'warn',
        SENTINEL_DOCKER_HOST: `unix://${join(dir, 'no-docker.sock')}`,
      },
    },
  );
  t.after(async () => {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  await waitForUrl(`http://127.0.0.1:${port}/healthz`, 20_000);
  // One authenticated delivery so the alert counters have samples.
  const post = await fetch(`http://127.0.0.1:${port}/webhook`, {
    method: 'POST',
    headers: { authorization: 'Bearer test-token', 'content-type': 'application/json' },
    body: JSON.stringify({
      version: '4',
      groupKey: 'g',
      status: 'firing',
      receiver: 'r',
      groupLabels: {},
      commonLabels: {},
      commonAnnotations: {},
      externalURL: 'http://am',
      truncatedAlerts: 0,
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'Unrouted', ollama: 'main' },
          annotations: {},
          startsAt: new Date().toISOString(),
          endsAt: '0001-01-01T00:00:00Z',
          generatorURL: '',
          fingerprint: 'abc',
        },
      ],
    }),
  });
  assert.ok(post.status < 300, `webhook answered ${post.status}: ${await post.text()}`);
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: 'Bearer test-token' } });
  assert.equal(res.status, 200);
  const text = await res.text();
  assert.match(text, /sentinel_remediator_alerts_received_total/);
  assert.deepEqual(checkMetricNames(text, ['process_', 'nodejs_']), []);
  const promtool = await execa('promtool', ['check', 'metrics'], { input: text, reject: false });
  if ((promtool as { code?: string }).code === 'ENOENT') t.diagnostic('promtool not installed: skipped');
  else assert.equal(promtool.exitCode, 0, `${promtool.stdout}${promtool.stderr}`);
});
