/**
 * A REAL Alertmanager 0.25 (Debian) delivers webhooks to the remediator process (the real command, real actions):
 * bearer auth from a credentials file, a hung runner on an Ollama simulator healed by a real `reload`, a silence
 * over the incident while healing, an unknown target refused with a 2xx (no retry storm), a receiver with a wrong
 * token rejected with 401 before the body is read.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findFreePort } from '../../helpers/find-free-port.js';
import { startAlertmanager } from '../../helpers/start-alertmanager.js';
import type { HttpDaemonHandle } from '../../helpers/start-http-daemon.js';
import { testEnvSkip } from '../../helpers/test-env-skip.js';
import { waitFor } from '../../helpers/wait-for.js';
import { defaultH100State, writeGpuState } from '../../sim/gpu-state.js';
import { startOllamaSim, type OllamaSim } from '../../sim/ollama-sim.js';
import { CONDITIONS_OBS } from '../../helpers/observation.js';
import { localHttp } from '../../helpers/local-http.js';
import { startRemediatorProcess, type RemediatorProcess } from '../../helpers/start-remediator-process.js';

const TOKEN = 'it-token-7d1e';

describe('Alertmanager -> remediator', { skip: testEnvSkip() }, () => {
  let dir: string;
  let sim: OllamaSim;
  let am: HttpDaemonHandle;
  let remediator: RemediatorProcess;
  let exporter: Awaited<ReturnType<typeof localHttp>>;
  let notified: Awaited<ReturnType<typeof localHttp>>;
  const auth = { authorization: `Bearer ${TOKEN}` };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sentinel-it-am-'));
    const gpuState = join(dir, 'gpu-state');
    writeGpuState(gpuState, defaultH100State());
    sim = await startOllamaSim({ gpuStateFile: gpuState, models: ['llama3'] });
    // The exporter is not under test: it reports a hung runner on `main` (the diagnosis the remediator starts from).
    exporter = await localHttp((_req, res) =>
      res.setHeader('content-type', 'application/json').end(
        JSON.stringify({
          // Sampled when asked, as the exporter's fresh=1 answer is: the remediator acts only on a newer picture.
          generated_at: new Date().toISOString(),
          targets: { main: { observation: { ...CONDITIONS_OBS.hung(), observedAtMs: Date.now() }, diagnosis: {} } },
        }),
      ),
    );
    notified = await localHttp((_req, res) => res.end('ok'));
    await writeFile(join(dir, 'token'), `${TOKEN}\n`);
    await writeFile(join(dir, 'wrong-token'), 'not-the-token\n');
    const port = await findFreePort();
    am = await startAlertmanager({
      config: {
        route: {
          receiver: 'remediator',
          group_by: ['alertname', 'ollama'],
          group_wait: '1s',
          group_interval: '1s',
          repeat_interval: '1h',
          routes: [{ receiver: 'wrong-token', matchers: ['test="wrong-token"'] }],
        },
        receivers: [
          {
            name: 'remediator',
            webhook_configs: [
              {
                url: `http://127.0.0.1:${port}/webhook`,
                send_resolved: true,
                http_config: { authorization: { type: 'Bearer', credentials_file: join(dir, 'token') } },
              },
            ],
          },
          {
            name: 'wrong-token',
            webhook_configs: [
              {
                url: `http://127.0.0.1:${port}/webhook`,
                send_resolved: true,
                http_config: { authorization: { type: 'Bearer', credentials_file: join(dir, 'wrong-token') } },
              },
            ],
          },
        ],
      },
    });
    await writeFile(
      join(dir, 'sentinel.yaml'),
      `
log: {level: info}
ollama:
  - {name: main, url: "${sim.url}"}
models:
  - {name: llama3, keep_warm: true, min_vram_ratio: 0.5}
gpu: {nvidia_smi: /bin/false}
docker: {host: "unix://${join(dir, 'no-docker.sock')}", timeout: 2s}
remediator:
  listen_address: 127.0.0.1:${port}
  bearer_token_file: ${join(dir, 'token')}
  data_dir: ${join(dir, 'data')}
  exporter_url: "${exporter.url}"
  silence: {alertmanager_url: "${am.url}", duration: 10m}
  notify: {url: "${notified.url}/hook"}
  rules:
    - {name: runner, match: {alertname: OllamaProbeHung}}
`,
    );
    remediator = await startRemediatorProcess(join(dir, 'sentinel.yaml'));
  });

  after(async () => {
    await remediator?.handle.stop();
    await am?.stop();
    await sim?.close();
    await exporter?.close();
    await notified?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const postAlerts = (alerts: unknown[]) =>
    fetch(`${am.url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alerts),
    }).then((r) => assert.equal(r.status, 200));
  const incidents = async () =>
    (
      (await (await fetch(`${remediator.url}/api/incidents`, { headers: auth })).json()) as {
        incidents: {
          id: string;
          rule: string;
          status: string;
          steps: { action: string; outcome: string; healthy?: boolean }[];
        }[];
      }
    ).incidents;
  const metrics = async () => (await fetch(`${remediator.url}/metrics`, { headers: auth })).text();
  const amMetric = async (re: RegExp) =>
    Number(((await (await fetch(`${am.url}/metrics`)).text()).match(re) ?? [])[1] ?? 0);

  it('heals a hung runner with a real reload, silencing the alert while it works', async () => {
    // The runner is resident (and, per the exporter, hung): a reload must unload it first.
    const load = await fetch(`${sim.url}/api/generate`, {
      method: 'POST',
      body: JSON.stringify({ model: 'llama3', keep_alive: -1, stream: false }),
    });
    assert.equal(load.status, 200);
    await sim.control.clearRequests();
    const labels = {
      alertname: 'OllamaProbeHung',
      ollama: 'main',
      model: 'llama3:latest',
      remediate: 'true',
      severity: 'critical',
    };
    await postAlerts([{ labels, annotations: { summary: 'runner hung' } }]);
    const healed = await waitFor(
      async () => (await incidents()).find((i) => i.rule === 'runner' && i.status !== 'open'),
      { timeoutMs: 60_000, intervalMs: 250, what: 'the incident to close' },
    );
    assert.equal(healed.status, 'healed');
    assert.deepEqual(
      healed.steps.map((s) => [s.action, s.outcome, s.healthy]),
      [['reload', 'done', true]],
    );
    const generates = (await sim.control.requests())
      .filter((r) => r.path === '/api/generate')
      .map((r) => r.body as { keep_alive?: unknown; prompt?: string });
    assert.equal(generates[0]?.keep_alive, 0, 'reload unloaded the model first');
    assert.ok(generates.length >= 3, 'then loaded it again, then the verification probed it');
    const silences = (await (await fetch(`${am.url}/api/v2/silences`)).json()) as {
      createdBy: string;
      comment: string;
      status: { state: string };
      matchers: { name: string; value: string }[];
    }[];
    const ours = silences.filter((s) => s.createdBy === 'ollama-sentinel remediator');
    assert.equal(ours.length, 1);
    assert.equal(ours[0]!.status.state, 'expired', 'removed once healed');
    assert.match(ours[0]!.comment, new RegExp(healed.id));
    const audit = (await readFile(join(dir, 'data', 'audit.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; incident?: string });
    assert.deepEqual(
      audit.filter((e) => e.incident === healed.id).map((e) => e.kind),
      ['alert', 'intent', 'result', 'verify', 'close'],
    );
    assert.match(
      await metrics(),
      /sentinel_remediator_actions_total\{target="[^"]+",action="reload",result="done"\} 1/,
    );
  });

  it('records an alert for an undeclared target and answers 2xx, so Alertmanager does not retry', async () => {
    const failedBefore = await amMetric(/alertmanager_notifications_failed_total\{integration="webhook"\} (\d+)/);
    await postAlerts([{ labels: { alertname: 'OllamaProbeHung', ollama: 'ghost; rm -rf /', remediate: 'true' } }]);
    await waitFor(
      async () => /sentinel_remediator_alerts_refused_total\{reason="unknown_target"\} 1/.test(await metrics()),
      { timeoutMs: 30_000, intervalMs: 250, what: 'the refusal' },
    );
    assert.equal(
      await amMetric(/alertmanager_notifications_failed_total\{integration="webhook"\} (\d+)/),
      failedBefore,
    );
  });

  it('refuses a receiver with the wrong token (401), which Alertmanager counts as a failed notification', async () => {
    const before = await amMetric(/alertmanager_notifications_failed_total\{integration="webhook"\} (\d+)/);
    await postAlerts([{ labels: { alertname: 'OllamaProbeHung', ollama: 'main', test: 'wrong-token' } }]);
    await waitFor(
      async () => (await amMetric(/alertmanager_notifications_failed_total\{integration="webhook"\} (\d+)/)) > before,
      { timeoutMs: 30_000, intervalMs: 250, what: 'a failed notification' },
    );
    assert.match(await metrics(), /sentinel_remediator_webhook_requests_total\{code="401"\} [1-9]/);
  });

  it('takes the resolution Alertmanager sends after the alert ends', async () => {
    const labels = {
      alertname: 'OllamaProbeHung',
      ollama: 'main',
      model: 'llama3:latest',
      remediate: 'true',
      severity: 'critical',
    };
    await postAlerts([{ labels, endsAt: new Date(Date.now() - 1000).toISOString() }]);
    await waitFor(
      async () => /sentinel_remediator_alerts_received_total\{status="resolved"\} [1-9]/.test(await metrics()),
      { timeoutMs: 30_000, intervalMs: 250, what: 'the resolved notification' },
    );
  });
});
