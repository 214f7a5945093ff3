/**
 * restart_container / recreate_container and the in-container GPU check on the REAL private Docker Engine: Compose-
 * labelled containers (plus a `compose run` one-off that must be left alone), a plain named container, the simulator
 * image with its fake nvidia-smi in container context, and the shell image without any nvidia-smi.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type Docker from 'dockerode';
import type { ActionRequest } from '../../../../remediator/actions/action.js';
import { actionHappened } from '../../../../remediator/actions/action-happened.js';
import { checkContainerGpuAccess } from '../../../../remediator/actions/check-container-gpu-access.js';
import { runAction } from '../../../../remediator/actions/run-action.js';
import type { OllamaTargetConfig } from '../../../../shared/config/types.js';
import { defaultH100State, updateGpuState, writeGpuState } from '../../../sim/gpu-state.js';
import { readTestEnv, type TestEnv } from '../../../helpers/read-test-env.js';
import { testDockerClient } from '../../../helpers/test-docker-client.js';
import { testEnvSkip } from '../../../helpers/test-env-skip.js';
import { integrationDeps } from '../../../helpers/integration-deps.js';

// busybox sh as PID 1 ignores SIGTERM without a trap: the trap keeps each stop well under the stop timeout.
const IDLE = ['/bin/sh', '-c', "trap 'exit 0' TERM; while :; do sleep 1; done"];

describe('container actions against the real Docker Engine', { skip: testEnvSkip() }, () => {
  let env: TestEnv;
  let docker: Docker;
  const tag = `ctr${process.pid}`;
  let dir: string;
  let stateFile: string;
  const ids: Record<string, string> = {};

  async function start(
    name: string,
    image: string,
    labels: Record<string, string> = {},
    extra: Partial<Docker.ContainerCreateOptions> = {},
  ): Promise<string> {
    const c = await docker.createContainer({
      name: `sentinel-${tag}-${name}`,
      Image: image,
      Entrypoint: IDLE,
      Cmd: [],
      Labels: labels,
      ...extra,
      HostConfig: { NetworkMode: 'host', ...extra.HostConfig },
    });
    ids[name] = c.id;
    await c.start();
    return c.id;
  }

  const startedAt = async (name: string) => (await docker.getContainer(ids[name]!).inspect()).State.StartedAt;
  const compose = (oneoff: boolean) => ({
    'com.docker.compose.project': tag,
    'com.docker.compose.service': 'ollama',
    'com.docker.compose.oneoff': oneoff ? 'True' : 'False',
  });
  const composeTarget = (): OllamaTargetConfig => ({
    name: 't',
    url: 'http://127.0.0.1:1',
    headers: {},
    container: { kind: 'compose', project: tag, service: 'ollama' },
  });
  const plainTarget = (name: string): OllamaTargetConfig => ({
    name: 't',
    url: 'http://127.0.0.1:1',
    headers: {},
    container: { kind: 'container', name: `sentinel-${tag}-${name}` },
  });
  const request = (
    action: ActionRequest['action'],
    target: OllamaTargetConfig,
    over: Partial<ActionRequest> = {},
  ): ActionRequest => ({
    action,
    target,
    dryRun: false,
    signal: AbortSignal.timeout(90_000),
    incidentId: tag,
    ...over,
  });

  before(async () => {
    env = readTestEnv();
    docker = testDockerClient(env);
    dir = join(env.tmpDir, tag);
    await mkdir(dir, { recursive: true });
    stateFile = join(dir, 'gpu-state');
    writeGpuState(stateFile, defaultH100State());
    await start('ollama-1', env.shellImage, compose(false));
    await start('ollama-2', env.shellImage, compose(false));
    await start('run-1', env.shellImage, compose(true));
    await start('plain', env.shellImage);
    await start(
      'gpu',
      env.simImage,
      {},
      {
        Env: ['SENTINEL_FAKE_SMI_CONTEXT=container', 'SENTINEL_FAKE_GPU_STATE=/state/gpu-state'],
        HostConfig: { NetworkMode: 'host', Binds: [`${dir}:/state`] },
      },
    );
  });

  after(async () => {
    for (const id of Object.values(ids))
      await docker
        ?.getContainer(id)
        .remove({ force: true })
        .catch(() => {});
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('dry-run restart lists the calls and touches nothing', async () => {
    const before1 = await startedAt('ollama-1');
    const result = await runAction(
      request('restart_container', composeTarget(), { dryRun: true }),
      integrationDeps(env, stateFile),
    );
    assert.equal(result.outcome, 'skipped', result.detail);
    assert.deepEqual(
      result.calls.filter((c) => c.startsWith('would')),
      [
        `would POST /containers/${ids['ollama-1']}/restart?t=3 (sentinel-${tag}-ollama-1)`,
        `would POST /containers/${ids['ollama-2']}/restart?t=3 (sentinel-${tag}-ollama-2)`,
      ],
    );
    assert.equal(await startedAt('ollama-1'), before1);
  });

  it('restart_container restarts every Compose container of the service and never the one-off', async () => {
    const was = { one: await startedAt('ollama-1'), two: await startedAt('ollama-2'), run: await startedAt('run-1') };
    const deps = integrationDeps(env, stateFile);
    const result = await runAction(request('restart_container', composeTarget()), deps);
    assert.equal(result.outcome, 'done', result.detail);
    assert.notEqual(await startedAt('ollama-1'), was.one);
    assert.notEqual(await startedAt('ollama-2'), was.two);
    assert.equal(await startedAt('run-1'), was.run, 'the one-off container is not the target');
    assert.equal((await docker.getContainer(ids['ollama-1']!).inspect()).State.Running, true);
    assert.equal(await actionHappened('restart_container', result.before!, composeTarget(), deps), true);
  });

  it('actionHappened after a simulated crash: before the call = false, after it = true', async () => {
    const deps = integrationDeps(env, stateFile);
    // the remediator "dies" right after persisting its evidence: no restart call was made
    let persisted: Record<string, unknown> | undefined;
    const crashed = await runAction(
      request('restart_container', plainTarget('plain'), {
        onBefore: (b) => {
          persisted = b;
          throw new Error('simulated crash after persisting the intent');
        },
      }),
      deps,
    );
    assert.equal(crashed.outcome, 'failed');
    assert.ok(persisted);
    assert.equal(await actionHappened('restart_container', persisted, plainTarget('plain'), deps), false);

    // the restart goes out, then the process "dies" before recording the result: only the evidence survives
    let evidence: Record<string, unknown> | undefined;
    await runAction(request('restart_container', plainTarget('plain'), { onBefore: (b) => void (evidence = b) }), deps);
    assert.equal(await actionHappened('restart_container', evidence!, plainTarget('plain'), deps), true);
  });

  it('recreate_container on a plain container: stop + start, new start time', async () => {
    const was = await startedAt('plain');
    const deps = integrationDeps(env, stateFile);
    const result = await runAction(request('recreate_container', plainTarget('plain')), deps);
    assert.equal(result.outcome, 'done', result.detail);
    assert.match(result.detail, /stopped and started \(not a recreate/);
    assert.deepEqual(
      result.calls.filter((c) => c.startsWith('POST')),
      [
        `POST /containers/${ids.plain}/stop?t=3 (sentinel-${tag}-plain)`,
        `POST /containers/${ids.plain}/start (sentinel-${tag}-plain)`,
      ],
    );
    assert.notEqual(await startedAt('plain'), was);
    assert.equal(await actionHappened('recreate_container', result.before!, plainTarget('plain'), deps), true);
  });

  it('a selector matching nothing is refused, never guessed', async () => {
    const result = await runAction(
      request('restart_container', plainTarget('no-such')),
      integrationDeps(env, stateFile),
    );
    assert.equal(result.outcome, 'failed');
    assert.match(result.detail, /no container matches .*cannot prove the target/);
  });

  it('checkContainerGpuAccess: GPU listed = true, NVML lost = false, no nvidia-smi or no container = null', async () => {
    const deps = integrationDeps(env, stateFile);
    assert.equal(await checkContainerGpuAccess(plainTarget('gpu'), deps), true);
    await updateGpuState(stateFile, (s) => {
      s.containerNvmlLost = true;
    });
    assert.equal(await checkContainerGpuAccess(plainTarget('gpu'), deps), false);
    await updateGpuState(stateFile, (s) => {
      s.containerNvmlLost = false;
    });
    assert.equal(await checkContainerGpuAccess(plainTarget('gpu'), deps), true, 'back after the fix');
    assert.equal(await checkContainerGpuAccess(plainTarget('plain'), deps), null, 'busybox has no nvidia-smi');
    assert.equal(await checkContainerGpuAccess(plainTarget('no-such'), deps), null);
  });
});
