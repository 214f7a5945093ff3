/**
 * force_update_service and redeploy_stack on the test environment's REAL one-node Swarm: a stack of the loopback
 * registry's shell image on the host network (ingress does not answer here), short stop grace and an update_config
 * fit for tests, deployed with --resolve-image never so nothing leaves the machine.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { stringify } from 'yaml';
import type { ActionRequest } from '../../../../remediator/actions/action.js';
import { actionHappened } from '../../../../remediator/actions/action-happened.js';
import { runAction } from '../../../../remediator/actions/run-action.js';
import type { OllamaTargetConfig } from '../../../../shared/config/types.js';
import { deployStack } from '../../../helpers/deploy-stack.js';
import { readTestEnv, type TestEnv } from '../../../helpers/read-test-env.js';
import { removeStack } from '../../../helpers/remove-stack.js';
import { testDockerClient } from '../../../helpers/test-docker-client.js';
import { testEnvSkip } from '../../../helpers/test-env-skip.js';
import { integrationDeps } from '../../../helpers/integration-deps.js';

interface ServiceState {
  id: string;
  version: number;
  forceUpdate: number;
  runningTasks: string[];
}

describe('Swarm actions against the real one-node Swarm', { skip: testEnvSkip() }, () => {
  let env: TestEnv;
  let docker: Docker;
  const stack = `sentinel_swarm${process.pid}`;
  let dir: string;
  let stackFile: string;
  let target: OllamaTargetConfig;

  async function service(): Promise<ServiceState> {
    const info = (await docker.getService(`${stack}_ollama`).inspect()) as {
      ID: string;
      Version: { Index: number };
      Spec: { TaskTemplate: { ForceUpdate?: number } };
    };
    const tasks = (await docker.listTasks({ filters: { service: [info.ID], 'desired-state': ['running'] } })) as {
      ID: string;
      Status: { State: string };
    }[];
    return {
      id: info.ID,
      version: info.Version.Index,
      forceUpdate: info.Spec.TaskTemplate.ForceUpdate ?? 0,
      runningTasks: tasks
        .filter((t) => t.Status.State === 'running')
        .map((t) => t.ID)
        .sort(),
    };
  }

  const request = (action: ActionRequest['action'], over: Partial<ActionRequest> = {}): ActionRequest => ({
    action,
    target,
    dryRun: false,
    signal: AbortSignal.timeout(120_000),
    incidentId: stack,
    ...over,
  });

  before(async () => {
    env = readTestEnv();
    docker = testDockerClient(env);
    dir = join(env.tmpDir, stack);
    await mkdir(dir, { recursive: true });
    const compose = {
      version: '3.8',
      services: {
        ollama: {
          image: env.shellImage,
          entrypoint: ['/bin/sh', '-c', "trap 'exit 0' TERM; while :; do sleep 1; done"],
          networks: ['hostnet'],
          stop_grace_period: '2s',
          deploy: {
            replicas: 1,
            update_config: { parallelism: 1, delay: '0s', monitor: '1s', order: 'stop-first' },
            restart_policy: { condition: 'any', delay: '1s' },
          },
        },
      },
      networks: { hostnet: { external: true, name: 'host' } },
    };
    stackFile = join(dir, 'stack.yml');
    await writeFile(stackFile, stringify(compose));
    await deployStack(env, stack, compose, { timeoutMs: 90_000 });
    target = {
      name: 't',
      url: 'http://127.0.0.1:1',
      headers: {},
      container: { kind: 'swarm', stack, service: 'ollama', stack_file: stackFile },
    };
  });

  after(async () => {
    if (env) await removeStack(env, stack, 90_000).catch(() => {});
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('dry-run force update changes nothing', async () => {
    const was = await service();
    const result = await runAction(
      request('force_update_service', { dryRun: true }),
      integrationDeps(env, join(dir, 'none')),
    );
    assert.equal(result.outcome, 'skipped', result.detail);
    assert.ok(
      result.calls.includes(
        `would POST /services/${was.id}/update?version=${was.version} (full spec, TaskTemplate.ForceUpdate ${was.forceUpdate} -> ${was.forceUpdate + 1})`,
      ),
      result.calls.join('\n'),
    );
    assert.deepEqual(await service(), was);
  });

  it('force_update_service: ForceUpdate incremented, converged on a new task, provable afterwards', async () => {
    const was = await service();
    const deps = integrationDeps(env, join(dir, 'none'));
    const result = await runAction(request('force_update_service'), deps);
    assert.equal(result.outcome, 'done', result.detail);
    const now = await service();
    assert.equal(now.forceUpdate, was.forceUpdate + 1);
    assert.equal(now.runningTasks.length, 1);
    assert.notDeepEqual(now.runningTasks, was.runningTasks, 'the task was replaced');
    assert.deepEqual(result.before, {
      service: `${stack}_ollama`,
      serviceId: was.id,
      version: was.version,
      forceUpdate: was.forceUpdate,
      taskIds: was.runningTasks,
    });
    assert.equal(await actionHappened('force_update_service', result.before!, target, deps), true);
    // evidence taken now, before any further step: nothing happened since
    assert.equal(
      await actionHappened('force_update_service', { ...result.before!, forceUpdate: now.forceUpdate }, target, deps),
      false,
    );
  });

  it('recreate_container on a Swarm target is a force update', async () => {
    const was = await service();
    const result = await runAction(request('recreate_container'), integrationDeps(env, join(dir, 'none')));
    assert.equal(result.outcome, 'done', result.detail);
    assert.match(result.detail, /^recreate via Swarm force update/);
    assert.equal((await service()).forceUpdate, was.forceUpdate + 1);
  });

  it('redeploy_stack re-applies the stack file with --resolve-image never', async () => {
    const was = await service();
    const deps = integrationDeps(env, join(dir, 'none'));
    const result = await runAction(request('redeploy_stack'), deps);
    assert.equal(result.outcome, 'done', result.detail);
    assert.ok(
      result.calls.some((c) =>
        c.endsWith(`stack deploy -c ${stackFile} --resolve-image never ${stack} (DOCKER_HOST=${env.dockerHost})`),
      ),
      result.calls.join('\n'),
    );
    const now = await service();
    assert.equal(now.id, was.id, 'same service, updated in place');
    assert.ok(now.version > was.version, 'the deploy updated it');
    assert.equal(await actionHappened('redeploy_stack', result.before!, target, deps), true);
  });

  it('redeploy_stack with removal first: new service ids, converged', async () => {
    const was = await service();
    const deps = integrationDeps(env, join(dir, 'none'));
    const result = await runAction(request('redeploy_stack', { removeStackFirst: true }), deps);
    assert.equal(result.outcome, 'done', result.detail);
    const now = await service();
    assert.notEqual(now.id, was.id);
    assert.equal(now.runningTasks.length, 1);
    assert.equal(await actionHappened('redeploy_stack', result.before!, target, deps), true);
  });

  it('the remediator own stack / service is refused without any change', async () => {
    const was = await service();
    const mine = integrationDeps(env, join(dir, 'none'), {
      self: { pid: process.pid, containerId: null, stack, swarmService: `${stack}_ollama` },
    });
    const redeploy = await runAction(request('redeploy_stack'), mine);
    assert.equal(redeploy.outcome, 'failed');
    assert.match(redeploy.detail, /remediator's own stack/);
    const force = await runAction(request('force_update_service'), mine);
    assert.equal(force.outcome, 'failed');
    assert.match(force.detail, /remediator's own service/);
    assert.deepEqual(await service(), was);
  });
});
