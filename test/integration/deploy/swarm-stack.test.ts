/**
 * The shipped single-host Swarm stack, deployed for real: `docker stack deploy -c deploy/swarm/stack.yml` with the
 * product image built by deploy/image/build-local-image.sh and the simulator image in place of ollama/ollama. A second
 * compose file adds only what a GPU host has and the test machine lacks: the fake GPU (the state file, the fake
 * nvidia-smi the NVIDIA runtime would inject, the host's /proc for the simulator to name its runners by host PID as
 * the driver does), the test environment's Docker socket in place of /var/run/docker.sock, and folders in place of the
 * named volumes so the test can read the audit log. Everything else runs as shipped: ollama-init pulls and verifies
 * the model, the app task waits with `init --check`, the exporter traces the runner's VRAM to the Ollama task, and the
 * remediator heals a silent CPU fallback with `force_update_service` from inside its own task.
 */
import assert from 'node:assert/strict';
import { chmod, copyFile, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { readAuditLog, readDiagnosis } from '../../../deploy/demo/chain-observers.js';
import { injectCpuFallback } from '../../../deploy/demo/inject-fault.js';
import { modelRequestFields } from '../../../shared/ollama/model-request-fields.js';
import { firingWebhook } from '../../helpers/firing-webhook.js';
import { loadDeployConfig } from '../../helpers/load-deploy-config.js';
import { readTestEnv, type TestEnv } from '../../helpers/read-test-env.js';
import { removeStack } from '../../helpers/remove-stack.js';
import { runDockerCli } from '../../helpers/run-docker-cli.js';
import { testDockerClient } from '../../helpers/test-docker-client.js';
import { testEnvSkip } from '../../helpers/test-env-skip.js';
import { waitFor } from '../../helpers/wait-for.js';

/** The stack's own configuration names its services ai_ollama and ai_remediator. */
const STACK = 'ai';
const OLLAMA = 'http://127.0.0.1:11434';
const EXPORTER = 'http://127.0.0.1:9778';
const REMEDIATOR = 'http://127.0.0.1:9779';
/** The stack's configured model, as the shipped file declares it (its request fields decide what Ollama reloads). */
const MODEL = loadDeployConfig('deploy/swarm/ollama-sentinel.yaml').models[0]!;
const STEP_MS = 120_000;

describe('the shipped Swarm stack (deploy/swarm/stack.yml), deployed for real', { skip: testEnvSkip() }, () => {
  let env: TestEnv;
  let docker: Docker;
  let dir: string;
  let nodeId = '';
  const images: string[] = [];
  const token = `stack-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const cli = (args: readonly string[], input?: string) => runDockerCli(env, args, { input, timeoutMs: 180_000 });

  before(async () => {
    env = readTestEnv();
    docker = testDockerClient(env);
    for (const port of [11434, 9778, 9779]) await assertPortFree(port);
    dir = join(env.tmpDir, `stack${process.pid}`);
    await mkdir(join(dir, 'gpu'), { recursive: true });
    await mkdir(join(dir, 'ollama'), { recursive: true });
    await mkdir(join(dir, 'remediator'), { recursive: true });
    await writeFile(join(dir, 'gpu', 'gpu.state'), IDLE_H100);
    // The exporter reads it as uid 1000; the simulator (root) rewrites it as its runners come and go.
    await chmod(join(dir, 'gpu'), 0o755);
    // The model "on the Ollama volume" (the simulator keeps models in memory; this file plays the volume).
    await writeFile(join(dir, 'ollama', 'models'), MODEL.name);

    const product = `sentinel-stack-product:${process.pid}`;
    const gpuImage = `sentinel-stack-gpu:${process.pid}`;
    await execa(
      'bash',
      [join(env.repo, 'deploy/image/build-local-image.sh'), '--tag', product, '--sbom', join(dir, 'sbom.json')],
      {
        env: { DOCKER_HOST: env.dockerHost, DOCKER_CONFIG: env.dockerConfig },
      },
    );
    images.push(product);
    await addFakeGpuTools(product, gpuImage);
    images.push(gpuImage);

    nodeId = ((await docker.info()) as { Swarm: { NodeID: string } }).Swarm.NodeID;
    await cli(['node', 'update', '--label-add', 'gpu=true', nodeId]);
    await cli(['secret', 'create', 'sentinel-remediator-token', '-'], token);

    const override = join(dir, 'test-host.yml');
    await writeFile(override, stringify(testHostOverride(dir, env)));
    const { gid } = await stat(env.dockerSocket);
    await execa(
      'docker',
      [
        'stack',
        'deploy',
        '--resolve-image',
        'never',
        '-c',
        join(env.repo, 'deploy/swarm/stack.yml'),
        '-c',
        override,
        STACK,
      ],
      {
        env: {
          DOCKER_HOST: env.dockerHost,
          DOCKER_CONFIG: env.dockerConfig,
          SENTINEL_IMAGE: gpuImage,
          OLLAMA_IMAGE: env.simImage,
          DOCKER_GID: String(gid),
        },
        timeout: 120_000,
      },
    );
  });

  after(async () => {
    if (!env) return;
    await cli(['stack', 'rm', STACK]).catch(() => undefined);
    // Swarm leaves the containers of a completed job (ollama-init) behind once their service is gone: remove them.
    const stackLabel = { label: [`com.docker.stack.namespace=${STACK}`] };
    await waitFor(
      async () => {
        const left = await docker.listContainers({ all: true, filters: stackLabel });
        for (const c of left.filter((x) => x.State === 'exited' || x.State === 'created'))
          await docker
            .getContainer(c.Id)
            .remove({ force: true })
            .catch(() => undefined);
        return left.length === 0;
      },
      { timeoutMs: 120_000, intervalMs: 1000, what: `the containers of stack ${STACK} to be gone` },
    ).catch((err: Error) => console.error(err.message));
    await removeStack(env, STACK, 60_000).catch((err: Error) => console.error(err.message));
    await cli(['secret', 'rm', 'sentinel-remediator-token']).catch(() => undefined);
    if (nodeId) await cli(['node', 'update', '--label-rm', 'gpu', nodeId]).catch(() => undefined);
    for (const image of images)
      await docker
        .getImage(image)
        .remove({ force: true })
        .catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function until<T>(
    what: string,
    probe: () => Promise<T | undefined | null | false>,
    timeoutMs = STEP_MS,
  ): Promise<T> {
    try {
      return await waitFor(async () => probe().catch(() => undefined), { timeoutMs, intervalMs: 1000, what });
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${await stackLogs()}`, { cause: err });
    }
  }
  async function stackLogs(): Promise<string> {
    const ps = await runDockerCli(env, ['stack', 'ps', STACK, '--no-trunc'], { reject: false });
    const out: string[] = [ps.stdout + ps.stderr];
    for (const s of ['ollama', 'ollama-init', 'app', 'exporter', 'remediator']) {
      const r = await runDockerCli(env, ['service', 'logs', '--tail', '20', `${STACK}_${s}`], { reject: false });
      out.push(`--- ${s} ---\n${r.stdout}${r.stderr}`);
    }
    return out.join('\n');
  }
  const ollamaContainers = async () =>
    docker.listContainers({ filters: { label: [`com.docker.swarm.service.name=${STACK}_ollama`] } });

  it('ollama-init makes the model ready and the app task starts only after init --check passed', async () => {
    const logs = (service: string) =>
      cli(['service', 'logs', '--raw', `${STACK}_${service}`]).then((r) => r.stdout + r.stderr);
    await until('the app task to say the models are ready', async () =>
      /models ready: start your app/.test(await logs('app')),
    );
    assert.match(await logs('ollama-init'), /init: exit 0 \(every model ready\)/, 'the init job made the model ready');
    assert.match(await logs('app'), /model ready \(check\)/, 'the app task waited with init --check');
  });

  it('the exporter sees the model on the GPU, its VRAM traced to the Ollama task; the diagnosis is healthy', async () => {
    const [task] = await until('the Ollama task', async () =>
      (await ollamaContainers()).length === 1 ? ollamaContainers() : false,
    );
    await until('a healthy diagnosis with the model on the GPU', async () => {
      const d = await readDiagnosis(EXPORTER, 'main');
      const ps = (await (await fetch(`${OLLAMA}/api/ps`)).json()) as {
        models: { name: string; size: number; size_vram: number }[];
      };
      return d?.status === 'healthy' && ps.models.some((m) => m.name === MODEL.name && m.size_vram === m.size);
    });
    const name = task!.Names[0]!.replace(/^\//, '');
    const traced = new RegExp(
      `^sentinel_gpu_container_memory_used_bytes\\{[^}]*container="${name}"[^}]*\\} (\\d+)$`,
      'm',
    );
    const bytes = await until(`the runner's VRAM attributed to ${name}`, async () => {
      const m = traced.exec(await (await fetch(`${EXPORTER}/metrics`)).text());
      return m && Number(m[1]) > 0 ? Number(m[1]) : false;
    });
    assert.ok(bytes > 10 * 2 ** 30, `gpt-oss:20b holds more than 10 GiB (${bytes})`);
  });

  it('a silent CPU fallback: the remediator in its task force-updates the Ollama service, and it is healthy again', async () => {
    await until('the remediator to answer', async () => (await fetch(`${REMEDIATOR}/healthz`)).ok);
    const before = (await ollamaContainers()).map((c) => c.Id);
    await injectCpuFallback(OLLAMA, modelRequestFields(MODEL));
    await until(
      'the diagnosis model_on_cpu',
      async () => (await readDiagnosis(EXPORTER, 'main'))?.status === 'model_on_cpu',
    );
    const res = await fetch(`${REMEDIATOR}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(
        firingWebhook(
          { alertname: 'OllamaGpuIdleWhileModelLoaded', ollama: 'main', remediate: 'true', severity: 'critical' },
          { startsAt: new Date(Date.now() - 1000), fingerprint: 'a1b2c3d4e5f60718' },
        ),
      ),
    });
    assert.equal(res.status, 200, await res.text());
    const audit = () => readAuditLog(join(dir, 'remediator'));
    // A force update waits for the new task to be healthy and then the stack's update monitor (30 s).
    const closed = await until(
      'the incident to close',
      async () => (await audit()).find((e) => e.kind === 'close'),
      4 * 60_000,
    );
    const lines = (await audit()).filter((e) => e.incident === closed.incident);
    const raw = lines.map((e) => e.raw).join('\n');
    const result = lines.find((e) => e.kind === 'result');
    assert.equal(result?.action, 'force_update_service', raw);
    assert.equal(result.result, 'done', raw);
    assert.equal(closed.result, 'healed', raw);
    const now = (await ollamaContainers()).map((c) => c.Id);
    assert.equal(now.length, 1);
    assert.ok(!before.includes(now[0]!), 'Swarm replaced the Ollama task');
    await until('healthy again', async () => (await readDiagnosis(EXPORTER, 'main'))?.status === 'healthy');
  });

  /** The product image plus what the NVIDIA container runtime injects on a GPU host: nvidia-smi (here the fake). */
  async function addFakeGpuTools(from: string, to: string): Promise<void> {
    const layer = join(dir, 'layer');
    const sim = join(layer, 'opt/fake-gpu/dist/test/sim');
    await mkdir(sim, { recursive: true });
    await mkdir(join(layer, 'usr/bin'), { recursive: true });
    for (const f of ['fake-nvidia-smi-main.js', 'fake-nvidia-smi.js', 'gpu-state.js'])
      await copyFile(join(env.repo, 'dist/test/sim', f), join(sim, f));
    await mkdir(join(layer, 'opt/fake-gpu/test'), { recursive: true });
    await execa('cp', ['-r', join(env.repo, 'test/fixtures'), join(layer, 'opt/fake-gpu/test/')]);
    await writeFile(join(layer, 'opt/fake-gpu/package.json'), '{"type":"module"}\n');
    // No shell needed: node runs it (a file without .js is CommonJS, which may import the ESM fake).
    await writeFile(
      join(layer, 'usr/bin/nvidia-smi'),
      "#!/usr/bin/node\nimport('/opt/fake-gpu/dist/test/sim/fake-nvidia-smi-main.js');\n",
    );
    await chmod(join(layer, 'usr/bin/nvidia-smi'), 0o755);
    await execa('chmod', ['-R', 'a+rX', layer]);
    const { stdout: id } = await cli(['create', from]);
    try {
      const tar = await execa('tar', ['-C', layer, '--owner=0', '--group=0', '-cf', '-', '.'], { encoding: 'buffer' });
      await execa('docker', ['cp', '-', `${id.trim()}:/`], {
        input: tar.stdout,
        env: { DOCKER_HOST: env.dockerHost, DOCKER_CONFIG: env.dockerConfig },
      });
      await cli(['commit', id.trim(), to]);
    } finally {
      await cli(['rm', '-f', id.trim()]).catch(() => undefined);
    }
  }
});

/** What a GPU host adds to the shipped stack; merged by `docker stack deploy -c stack.yml -c this` (by target). */
function testHostOverride(dir: string, env: TestEnv): Record<string, unknown> {
  const gpu = { SENTINEL_FAKE_GPU_STATE: '/gpu/gpu.state' };
  return {
    services: {
      ollama: {
        entrypoint: ['/bin/sh', '/sim-entrypoint.sh'],
        // The simulator's `ollama` is node under another name: `ollama list` (the stack's healthcheck) runs the script
        // `list` from the working directory, which sim-entrypoint.sh fills.
        working_dir: '/opt/ollama',
        command: ['--version', '0.33.0'],
        environment: {
          ...gpu,
          SENTINEL_FAKE_HOST_PROC: '/host/proc',
          SIM_MODELS_FILE: '/root/.ollama/models',
          // The real image has ollama in /usr/bin; the simulator's is made in /opt/ollama (the stack's healthcheck
          // runs `ollama list`).
          PATH: '/opt/ollama:/usr/local/bin:/usr/bin:/bin',
        },
        volumes: [
          `${join(dir, 'ollama')}:/root/.ollama`,
          `${join(dir, 'gpu')}:/gpu`,
          '/proc:/host/proc:ro',
          `${join(env.repo, 'deploy/demo/sim-entrypoint.sh')}:/sim-entrypoint.sh:ro`,
        ],
      },
      exporter: {
        environment: gpu,
        volumes: [`${join(dir, 'gpu')}:/gpu:ro`, `${env.dockerSocket}:/var/run/docker.sock:ro`],
      },
      remediator: {
        environment: gpu,
        volumes: [
          `${join(dir, 'gpu')}:/gpu:ro`,
          `${env.dockerSocket}:/var/run/docker.sock`,
          `${join(dir, 'remediator')}:/var/lib/ollama-sentinel`,
        ],
      },
    },
  };
}

async function assertPortFree(port: number): Promise<void> {
  const ok = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) }).then(
    () => false,
    () => true,
  );
  assert.ok(ok, `127.0.0.1:${port} is in use: the stack's services listen there (host network); stop what uses it`);
}

const IDLE_H100 = [
  'driver 580.159.04 13.0',
  'gpu 0 GPU-f88d2996-314d-4abe-0c94-acc6aa417694 00000000:00:06.0 81559 480 0 0 0 37 94.33 700.00 700.00 345 P0 0 0x0000000000000001 0 NVIDIA H100 80GB HBM3',
  'container_nvml_lost 0',
  '',
].join('\n');
