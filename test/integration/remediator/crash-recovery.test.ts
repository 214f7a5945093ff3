/**
 * The remediator process is SIGKILLed in the middle of a REAL container restart on the test environment's Docker
 * Engine, then started again on the same data_dir. It must judge the interrupted step from Docker's own state
 * (the container's start time changed: it happened), re-check health directly, and close the incident healed
 * without restarting the container a second time.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type Docker from 'dockerode';
import { readTestEnv, type TestEnv } from '../../helpers/read-test-env.js';
import { testDockerClient } from '../../helpers/test-docker-client.js';
import { testEnvSkip } from '../../helpers/test-env-skip.js';
import { waitFor } from '../../helpers/wait-for.js';
import { defaultH100State, updateGpuState, writeGpuState } from '../../sim/gpu-state.js';
import { startOllamaSim, type OllamaSim } from '../../sim/ollama-sim.js';
import { amFixtureText } from '../../helpers/alertmanager-fixtures.js';
import { startRemediatorProcess, type RemediatorProcess } from '../../helpers/start-remediator-process.js';

const TOKEN = 'crash-token';
// PID 1 ignores SIGTERM: Docker waits the full stop timeout before SIGKILL, which holds the restart open long
// enough to kill the remediator in the middle of it.
const STUBBORN = ['/bin/sh', '-c', "trap '' TERM; while :; do sleep 1; done"];

interface Incident {
  id: string;
  status: string;
  attempts: number;
  inFlight?: { action: string; before?: Record<string, unknown> };
  steps: { action: string; outcome: string; detail: string }[];
}

describe('remediator killed mid-step and restarted', { skip: testEnvSkip() }, () => {
  let env: TestEnv;
  let docker: Docker;
  let dir: string;
  let sim: OllamaSim;
  let containerId: string;
  let remediator: RemediatorProcess | undefined;
  const tag = `crash${process.pid}`;

  before(async () => {
    env = readTestEnv();
    docker = testDockerClient(env);
    dir = join(env.tmpDir, tag);
    await mkdir(dir, { recursive: true });
    const stateFile = join(dir, 'gpu-state');
    writeGpuState(stateFile, { ...defaultH100State(), containerNvmlLost: true });
    sim = await startOllamaSim({ gpuStateFile: stateFile, models: ['llama3'] });
    const c = await docker.createContainer({
      name: `sentinel-${tag}-ollama`,
      Image: env.simImage,
      Entrypoint: STUBBORN,
      Cmd: [],
      Env: ['SENTINEL_FAKE_SMI_CONTEXT=container', 'SENTINEL_FAKE_GPU_STATE=/state/gpu-state'],
      HostConfig: { NetworkMode: 'host', Binds: [`${dir}:/state`] },
    });
    containerId = c.id;
    await c.start();
    await writeFile(join(dir, 'token'), TOKEN);
    await writeFile(
      join(dir, 'sentinel.yaml'),
      `
log: {level: info}
ollama:
  - {name: main, url: "${sim.url}", container: {name: sentinel-${tag}-ollama}}
models:
  - {name: llama3, keep_warm: true, min_vram_ratio: 0.5}
gpu: {nvidia_smi: /bin/false}
docker: {host: "${env.dockerHost}", timeout: 30s}
remediator:
  listen_address: 127.0.0.1:0
  bearer_token_file: ${join(dir, 'token')}
  data_dir: ${join(dir, 'data')}
  exporter_url: http://127.0.0.1:1
  exporter_timeout: 1s
  stop_timeout: 10s
  container_ready_timeout: 60s
  rules:
    - {name: gpu-lost, match: {alertname: OllamaGpuAccessLost}}
`,
    );
  });

  after(async () => {
    await remediator?.handle.stop({ signal: 'SIGKILL' });
    await docker
      ?.getContainer(containerId)
      .remove({ force: true })
      .catch(() => undefined);
    await sim?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const stateOnDisk = async (): Promise<Incident[]> => {
    const text = await readFile(join(dir, 'data', 'state.json'), 'utf8').catch(() => '');
    return text ? (JSON.parse(text) as { book: { incidents: Incident[] } }).book.incidents : [];
  };
  const startedAt = async () => (await docker.getContainer(containerId).inspect()).State.StartedAt;
  const auditLines = async () =>
    (await readFile(join(dir, 'data', 'audit.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; result?: string; action?: string });

  it('judges the interrupted restart from Docker, re-checks health, and does not restart again', async () => {
    const firstStart = await startedAt();
    // Docker's "kill" event (its SIGTERM to the stubborn PID 1) proves the restart request reached Docker: only then
    // is the crash "between intent and result" with the restart under way (on a loaded machine the intent can be on
    // disk well before the request is sent).
    const events = (await docker.getEvents({
      filters: { container: [containerId], event: ['kill'] },
    })) as NodeJS.ReadableStream & { destroy(): void };
    const restartSent = new Promise<void>((resolve) => events.once('data', () => resolve()));
    remediator = await startRemediatorProcess(join(dir, 'sentinel.yaml'));
    const res = await fetch(`${remediator.url}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: amFixtureText('am-0.25-gpu-lost-firing.json'),
    });
    assert.equal(res.status, 200);

    // The intent and Docker's "before" facts are on disk before the restart request is sent.
    const inFlight = await waitFor(async () => (await stateOnDisk()).find((i) => i.inFlight?.before), {
      timeoutMs: 30_000,
      intervalMs: 50,
      what: 'the in-flight step with its evidence',
    });
    assert.equal(inFlight.inFlight!.action, 'restart_container');
    await Promise.race([
      restartSent,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error('no restart request reached Docker in 30 s')), 30_000),
      ),
    ]).finally(() => events.destroy());
    await remediator.handle.stop({ signal: 'SIGKILL' });
    remediator = undefined;
    assert.equal(
      (await stateOnDisk())[0]!.inFlight?.action,
      'restart_container',
      'the crash left the intent without a result',
    );

    // Docker finishes the restart on its own; the restart is what brings the GPU back.
    const secondStart = await waitFor(async () => ((await startedAt()) !== firstStart ? startedAt() : undefined), {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: 'Docker to finish the restart',
    });
    await updateGpuState(join(dir, 'gpu-state'), (s) => {
      s.containerNvmlLost = false;
    });

    remediator = await startRemediatorProcess(join(dir, 'sentinel.yaml'));
    const closed = await waitFor(async () => (await stateOnDisk()).find((i) => i.status !== 'open'), {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: 'the incident to close after the restart',
    });
    assert.equal(closed.status, 'healed');
    assert.equal(closed.attempts, 1, 'the interrupted restart counted once');
    assert.equal(closed.steps.length, 1);
    assert.equal(closed.steps[0]!.outcome, 'interrupted');
    assert.match(closed.steps[0]!.detail, /happened/);
    assert.equal(await startedAt(), secondStart, 'no second restart');
    const audit = await auditLines();
    assert.equal(audit.filter((e) => e.kind === 'intent').length, 1);
    assert.deepEqual(
      audit.filter((e) => e.kind === 'recovery').map((e) => [e.action, e.result]),
      [['restart_container', 'true']],
    );
    const incidents = (await (
      await fetch(`${remediator.url}/api/incidents`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as { incidents: Incident[]; breaker: { actions: number[] } };
    assert.equal(incidents.breaker.actions.length, 1, 'the breaker remembers the restart across the crash');
    // A re-send of the same alert neither reopens the incident nor acts.
    const again = await fetch(`${remediator.url}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: amFixtureText('am-0.25-gpu-lost-firing.json'),
    });
    assert.deepEqual(((await again.json()) as { duplicates: number }).duplicates, 1);
    await remediator.handle.stop();
    assert.equal(await startedAt(), secondStart);
  });

  it('on SIGTERM lets the running restart finish, records its result and exits 0', async () => {
    await updateGpuState(join(dir, 'gpu-state'), (st) => {
      st.containerNvmlLost = true;
    });
    const config = (await readFile(join(dir, 'sentinel.yaml'), 'utf8')).replace(
      `data_dir: ${join(dir, 'data')}`,
      `data_dir: ${join(dir, 'data-term')}\n  shutdown_grace: 60s`,
    );
    await writeFile(join(dir, 'sentinel-term.yaml'), config);
    const before = await startedAt();
    const proc = await startRemediatorProcess(join(dir, 'sentinel-term.yaml'));
    remediator = proc;
    const res = await fetch(`${proc.url}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: amFixtureText('am-0.25-gpu-lost-firing.json'),
    });
    assert.equal(res.status, 200);
    const read = async () => {
      const text = await readFile(join(dir, 'data-term', 'state.json'), 'utf8').catch(() => '');
      return text ? (JSON.parse(text) as { book: { incidents: Incident[] } }).book.incidents : [];
    };
    await waitFor(async () => (await read()).find((i) => i.inFlight?.before), {
      timeoutMs: 30_000,
      intervalMs: 50,
      what: 'the step to start',
    });
    const exit = await proc.handle.stop({ signal: 'SIGTERM', graceMs: 90_000 });
    remediator = undefined;
    assert.equal(exit.code, 0, proc.handle.output().slice(-2000));
    assert.notEqual(await startedAt(), before, 'the restart went through');
    const inc = (await read())[0]!;
    assert.equal(inc.inFlight, undefined, 'no step left in flight');
    assert.equal(inc.steps[0]!.action, 'restart_container');
    assert.equal(inc.steps[0]!.outcome, 'done');
  });
});
