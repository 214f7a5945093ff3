/**
 * restart_container against the test environment's REAL Docker Engine, with faults injected in front of it: the
 * remediator process talks to Docker through the fake engine in forwarding mode (test/helpers/fake-docker-engine.ts),
 * which passes everything to the real daemon except the calls a case breaks. The GPU is lost inside the container
 * (the simulator's `nvidia-smi -L` there fails and its loads fall back to the CPU) until Docker really (re)starts the
 * container, so diagnosis and verification see what a real restart changes. Each case counts the container's real
 * starts: no restart is ever done twice, the audit log explains every step, and the incident ends healed.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type Docker from 'dockerode';
import { amFixtureText } from '../../../helpers/alertmanager-fixtures.js';
import { startFakeDockerEngine, type FakeDockerEngine } from '../../../helpers/fake-docker-engine.js';
import { readTestEnv, type TestEnv } from '../../../helpers/read-test-env.js';
import { startRemediatorProcess, type RemediatorProcess } from '../../../helpers/start-remediator-process.js';
import { testDockerClient } from '../../../helpers/test-docker-client.js';
import { testEnvSkip } from '../../../helpers/test-env-skip.js';
import { waitFor } from '../../../helpers/wait-for.js';
import { defaultH100State, writeGpuState } from '../../../sim/gpu-state.js';
import { startOllamaSim, type OllamaSim } from '../../../sim/ollama-sim.js';

const TOKEN = 'fault-token';
const RESTART = 'POST /containers/[0-9a-f]{64}/restart';
// Counts its starts and exits at once on SIGTERM (a restart takes a moment, not the stop timeout).
const ENTRYPOINT = [
  '/bin/sh',
  '-c',
  "echo start >> /state/starts; trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done",
];

interface Incident {
  status: string;
  attempts: number;
  inFlight?: { action: string; before?: Record<string, unknown> };
  steps: { action: string; outcome: string; detail: string }[];
}

describe('restart_container with real Docker failing mid-step', { skip: testEnvSkip() }, () => {
  let env: TestEnv;
  let docker: Docker;
  let dir: string;
  let sim: OllamaSim;
  let proxy: FakeDockerEngine;
  let containerId: string;
  let remediator: RemediatorProcess | undefined;
  const tag = `faults${process.pid}`;

  before(async () => {
    env = readTestEnv();
    docker = testDockerClient(env);
    dir = join(env.tmpDir, tag);
    await mkdir(dir, { recursive: true });
    writeGpuState(join(dir, 'gpu-state'), defaultH100State());
    sim = await startOllamaSim({ gpuStateFile: join(dir, 'gpu-state'), models: ['llama3'] });
    proxy = await startFakeDockerEngine(() => undefined, {
      forward: env.dockerSocket,
      // A start re-applies the container's device rules: that, and only that, brings its GPU back.
      onForwarded: async (r, status) => {
        if (r.method === 'POST' && /\/(restart|start)$/.test(r.path) && status < 300) await gpu(true);
      },
    });
    const c = await docker.createContainer({
      name: `sentinel-${tag}-ollama`,
      Image: env.simImage,
      Entrypoint: ENTRYPOINT,
      Cmd: [],
      Env: ['SENTINEL_FAKE_SMI_CONTEXT=container', 'SENTINEL_FAKE_GPU_STATE=/state/gpu-state'],
      HostConfig: { NetworkMode: 'host', Binds: [`${dir}:/state`] },
    });
    containerId = c.id;
    await c.start();
    await waitFor(async () => (await starts()) === 1 || undefined, { timeoutMs: 10_000, what: 'the first start' });
    await writeFile(join(dir, 'token'), TOKEN);
  });

  after(async () => {
    await remediator?.handle.stop({ signal: 'SIGKILL' });
    await docker
      ?.getContainer(containerId)
      .remove({ force: true })
      .catch(() => undefined);
    await proxy?.close();
    await sim?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** GPU access in the container, and so where the simulator loads models; loaded ones are unloaded. */
  async function gpu(ok: boolean): Promise<void> {
    await sim.control.setFaults({ containerGpuLost: !ok, cpuFallback: !ok });
    for (const r of (await sim.control.state()).runners) await sim.control.expire(r.name).catch(() => undefined);
  }
  const starts = async () => (await readFile(join(dir, 'starts'), 'utf8').catch(() => '')).split('\n').length - 1;

  /** A fresh data dir and config for one case; the GPU is lost again. */
  async function setUp(name: string): Promise<{ config: string; data: string }> {
    await gpu(false);
    proxy.faults.clear();
    const data = join(dir, `data-${name}`);
    const config = join(dir, `${name}.yaml`);
    await writeFile(
      config,
      `
ollama:
  - {name: main, url: "${sim.url}", container: {name: sentinel-${tag}-ollama}}
models:
  - {name: llama3, keep_warm: true, min_vram_ratio: 0.5}
gpu: {nvidia_smi: /bin/false}
docker: {host: "unix://${proxy.socketPath}", timeout: 30s}
remediator:
  listen_address: 127.0.0.1:0
  bearer_token_file: ${join(dir, 'token')}
  data_dir: ${data}
  exporter_url: http://127.0.0.1:1
  exporter_timeout: 1s
  stop_timeout: 5s
  container_ready_timeout: 30s
  rules:
    - {name: gpu-lost, match: {alertname: OllamaGpuAccessLost}}
`,
    );
    return { config, data };
  }

  async function alert(proc: RemediatorProcess): Promise<void> {
    const res = await fetch(`${proc.url}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: amFixtureText('am-0.25-gpu-lost-firing.json'),
    });
    assert.equal(res.status, 200);
  }

  const incidents = async (data: string): Promise<Incident[]> => {
    const text = await readFile(join(data, 'state.json'), 'utf8').catch(() => '');
    return text ? (JSON.parse(text) as { book: { incidents: Incident[] } }).book.incidents : [];
  };
  const closed = (data: string) =>
    waitFor(async () => (await incidents(data)).find((i) => i.status !== 'open'), {
      timeoutMs: 60_000,
      intervalMs: 200,
      what: 'the incident to close',
    });
  const trail = async (data: string) =>
    (await readFile(join(data, 'audit.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; action?: string; result?: string })
      .filter((e) => ['intent', 'result', 'recovery'].includes(e.kind))
      .map((e) => `${e.kind}:${e.action}${e.result ? `:${e.result}` : ''}`);

  it('the connection drops after Docker restarted it: settled by inspecting, not restarted twice', async () => {
    const { config, data } = await setUp('drop');
    proxy.faults.arm(RESTART, { kind: 'drop', applied: true }, { times: 1 });
    const before = await starts();
    remediator = await startRemediatorProcess(config);
    await alert(remediator);
    const inc = await closed(data);
    await remediator.handle.stop();
    remediator = undefined;
    assert.equal(inc.status, 'healed', JSON.stringify(inc.steps));
    assert.deepEqual(proxy.faults.hits.length, 1, 'the fault hit');
    assert.equal((await starts()) - before, 1, 'one real restart');
    assert.deepEqual(
      inc.steps.map((s) => `${s.action}:${s.outcome}`),
      ['restart_container:done'],
    );
    assert.deepEqual(await trail(data), ['intent:restart_container', 'result:restart_container:done']);
  });

  it('Docker answers 500: the restart fails, is not retried, and the next step heals', async () => {
    const { config, data } = await setUp('500');
    proxy.faults.arm(RESTART, { kind: 'status', status: 500, message: 'injected: driver failed' });
    const before = await starts();
    remediator = await startRemediatorProcess(config);
    await alert(remediator);
    const inc = await closed(data);
    await remediator.handle.stop();
    remediator = undefined;
    assert.equal(inc.status, 'healed', JSON.stringify(inc.steps));
    assert.equal(proxy.faults.hits.length, 1, 'one restart request, never sent again');
    assert.equal((await starts()) - before, 1, 'one real start: the stop + start of recreate_container');
    assert.deepEqual(
      inc.steps.map((s) => `${s.action}:${s.outcome}`),
      ['restart_container:failed', 'recreate_container:done'],
    );
    assert.match(inc.steps[0]!.detail, /HTTP 500: injected: driver failed/);
    assert.deepEqual(await trail(data), [
      'intent:restart_container',
      'result:restart_container:failed',
      'intent:recreate_container',
      'result:recreate_container:done',
    ]);
  });

  it('SIGKILLed between intent and restart: after the restart Docker shows it did not happen; restarted once', async () => {
    const { config, data } = await setUp('kill');
    let held = false;
    proxy.faults.arm(RESTART, { kind: 'hang' }, { times: 1, onHit: () => void (held = true) });
    const before = await starts();
    const first = await startRemediatorProcess(config);
    remediator = first;
    await alert(first);
    await waitFor(async () => (held && (await incidents(data))[0]?.inFlight?.before) || undefined, {
      timeoutMs: 30_000,
      intervalMs: 50,
      what: 'the restart request, with the intent and its evidence on disk',
    });
    await first.handle.stop({ signal: 'SIGKILL' });
    remediator = undefined;
    assert.equal((await starts()) - before, 0, 'the restart never reached Docker');
    assert.equal((await incidents(data))[0]!.inFlight?.action, 'restart_container');

    remediator = await startRemediatorProcess(config);
    const inc = await closed(data);
    await remediator.handle.stop();
    remediator = undefined;
    assert.equal(inc.status, 'healed', JSON.stringify(inc.steps));
    assert.equal((await starts()) - before, 1, 'restarted exactly once');
    assert.equal(inc.attempts, 1, 'the interrupted step did not happen, so it did not count');
    assert.deepEqual(
      inc.steps.map((s) => `${s.action}:${s.outcome}`),
      ['restart_container:interrupted', 'restart_container:done'],
    );
    assert.match(inc.steps[0]!.detail, /did not happen/);
    assert.deepEqual(await trail(data), [
      'intent:restart_container',
      'recovery:restart_container:false',
      'intent:restart_container',
      'result:restart_container:done',
    ]);
  });
});
