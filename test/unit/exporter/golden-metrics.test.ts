// Golden /metrics end to end: the real exporter process against the Ollama simulator and the fake nvidia-smi.
// The committed file is the metric contract (names, labels, HELP, TYPE and every deterministic value).
// Rewrite it with SENTINEL_UPDATE_GOLDEN=1 after a deliberate change, and review the diff.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { startOllamaSim } from '../../sim/ollama-sim.js';
import { writeGpuState, defaultH100State } from '../../sim/gpu-state.js';
import { findFreePort } from '../../helpers/find-free-port.js';
import { startProcess } from '../../helpers/start-process.js';
import { waitFor } from '../../helpers/wait-for.js';
import { checkMetricNames } from '../../lint/metric-name-rules.js';
import { normalizeExposition } from '../../helpers/normalize-exposition.js';
import { startFakeDockerEngine } from '../../helpers/fake-docker-engine.js';

const repo = fileURLToPath(new URL('../../../../', import.meta.url));
const golden = join(repo, 'test/fixtures/golden/exporter-metrics.txt');

test('golden /metrics against the simulators, promtool-clean and lint-clean', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-golden-'));
  const stateFile = join(dir, 'gpu.state');
  writeGpuState(stateFile, defaultH100State());
  const sim = await startOllamaSim({
    gpuStateFile: stateFile,
    models: ['gpt-oss:20b', 'llama3:latest'],
    version: '0.12.3',
  });
  // The Engine the exporter reads its node identity from (sentinel_node_info): a Swarm worker, and no containers.
  const docker = await startFakeDockerEngine((req) =>
    req.method === 'GET' && req.path === '/info'
      ? {
          status: 200,
          json: { Name: 'gpu-node-1', Swarm: { NodeID: 'p9x2golden0node0id00000k', LocalNodeState: 'active' } },
        }
      : undefined,
  );
  const port = await findFreePort();
  writeFileSync(
    join(dir, 'config.yaml'),
    `ollama:
  - name: main
    url: ${sim.url}
models:
  - name: gpt-oss:20b
    keep_warm: true
    options: {num_ctx: 8192}
  - name: llama3
  - name: qwen2.5:0.5b
gpu:
  nvidia_smi: ${join(repo, 'test/sim/bin/nvidia-smi')}
  interval: 1s
docker:
  host: unix://${docker.socketPath}
exporter:
  listen_address: 127.0.0.1:${port}
  ollama_interval: 1s
  probe_interval: 1s
`,
  );
  const exporter = startProcess(
    process.execPath,
    [join(repo, 'dist/shared/cli/main.js'), 'exporter', '--config', join(dir, 'config.yaml')],
    {
      env: { ...process.env, SENTINEL_FAKE_GPU_STATE: stateFile, SENTINEL_LOG_LEVEL: 'warn' },
    },
  );
  t.after(async () => {
    await exporter.stop();
    await sim.close();
    await docker.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const base = `http://127.0.0.1:${port}`;
  // Ready, the probe has loaded the keep_warm model, and the GPU reading shows all of its runner's memory (over 10 GB:
  // a load grows VRAM in steps, and the 1 s GPU sample may lag the probe's success), in the process list too: the
  // GPU and its processes are two nvidia-smi reads, and CI once caught the process list a step behind the total.
  const text = await waitFor(
    async () => {
      const res = await fetch(`${base}/metrics`);
      const body = await res.text();
      const total = /^sentinel_gpu_memory_used_bytes\{[^}]*\} (\d+)$/m.exec(body)?.[1];
      const runner = /^sentinel_gpu_process_memory_used_bytes\{[^}]*role="ollama_runner"[^}]*\} (\d+)$/m.exec(
        body,
      )?.[1];
      return /sentinel_probe_success\{[^}]*\} 1/.test(body) &&
        /sentinel_ollama_model_loaded\{[^}]*model="gpt-oss:20b"[^}]*\} 1/.test(body) &&
        total !== undefined &&
        total.length >= 11 &&
        runner === total &&
        /sentinel_node_info\{[^}]*node_id="p9x2golden0node0id00000k"/.test(body)
        ? body
        : false;
    },
    { timeoutMs: 30_000, intervalMs: 250, what: `exporter metrics with a loaded, probed model\n${exporter.output()}` },
  );
  assert.equal(exporter.running(), true);

  const problems = checkMetricNames(text);
  assert.deepEqual(problems, [], 'metric naming rules');

  const promtool = await execa('promtool', ['check', 'metrics'], { input: text, reject: false });
  if (promtool.exitCode === undefined || (promtool as { code?: string }).code === 'ENOENT')
    t.diagnostic('promtool not installed: skipped its check');
  else assert.equal(promtool.exitCode, 0, `promtool check metrics:\n${promtool.stdout}${promtool.stderr}`);

  const normalized = normalizeExposition(text);
  if (process.env.SENTINEL_UPDATE_GOLDEN === '1' || !existsSync(golden)) {
    writeFileSync(golden, normalized);
    t.diagnostic(`wrote ${golden}`);
  }
  const want = readFileSync(golden, 'utf8').split('\n');
  const got = normalized.split('\n');
  const diff = [
    ...want.filter((l) => !got.includes(l)).map((l) => `- ${l}`),
    ...got.filter((l) => !want.includes(l)).map((l) => `+ ${l}`),
  ];
  assert.deepEqual(
    diff,
    [],
    'differs from the golden file (- expected, + got): review, then rerun with SENTINEL_UPDATE_GOLDEN=1 if intended',
  );
  assert.equal(normalized, want.join('\n'), 'same lines, different order');
});
