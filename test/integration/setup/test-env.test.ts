/**
 * Smoke test of the integration-test environment (test/setup/test-env.sh): proves each piece the
 * other integration tests rely on, so a broken environment fails here with a plain message first.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { deployStack } from '../../helpers/deploy-stack.js';
import { findFreePort } from '../../helpers/find-free-port.js';
import { readTestEnv, type TestEnv } from '../../helpers/read-test-env.js';
import { removeStack } from '../../helpers/remove-stack.js';
import { runDockerCli } from '../../helpers/run-docker-cli.js';
import { startAlertmanager } from '../../helpers/start-alertmanager.js';
import type { HttpDaemonHandle } from '../../helpers/start-http-daemon.js';
import { startPrometheus } from '../../helpers/start-prometheus.js';
import { testDockerClient } from '../../helpers/test-docker-client.js';
import { testEnvSkip } from '../../helpers/test-env-skip.js';
import { waitFor } from '../../helpers/wait-for.js';
import { waitForUrl } from '../../helpers/wait-for-url.js';

const SIM_MAIN = 'dist/test/sim/ollama-sim-main.js';

/** An inline Node HTTP server for containers; it handles SIGTERM so `docker stop` is quick even as PID 1. */
function nodeServerScript(port: number, body: string): string {
  return [
    `const s = require('http').createServer((q, r) => r.end(${JSON.stringify(body)}));`,
    `s.listen(${port}, '127.0.0.1');`,
    `process.on('SIGTERM', () => s.close(() => process.exit(0)));`,
  ].join(' ');
}

async function removeContainer(docker: Docker, name: string): Promise<void> {
  await docker
    .getContainer(name)
    .remove({ force: true })
    .catch(() => {});
}

describe('integration test environment', { skip: testEnvSkip() }, () => {
  let env: TestEnv;
  let docker: Docker;
  const prefix = `sentinel-smoke-${process.pid}`;

  before(() => {
    env = readTestEnv();
    docker = testDockerClient(env);
  });

  it('the private Docker daemon answers at DOCKER_HOST with its own data root', async () => {
    assert.match(env.dockerHost, /^unix:\/\//);
    assert.notEqual(env.dockerSocket, '/var/run/docker.sock');
    assert.equal(String(await docker.ping()), 'OK');
    const info = await docker.info();
    assert.equal(info.DockerRootDir, join(env.dir, 'docker/data'));
    assert.equal(info.Driver, 'overlay2');
  });

  it('the loopback registry serves the pushed images, identical to the local ones', async () => {
    for (const image of [env.simImage, env.shellImage]) {
      const [, repo, tag] = /^[^/]+\/([^:]+):(.+)$/.exec(image)!;
      const tags = await (await fetch(`http://${env.registry}/v2/${repo}/tags/list`)).json();
      assert.ok((tags as { tags: string[] }).tags.includes(tag!), `${image} not in ${JSON.stringify(tags)}`);
      const manifest = await fetch(`http://${env.registry}/v2/${repo}/manifests/${tag}`, {
        method: 'HEAD',
        headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' },
      });
      assert.equal(manifest.status, 200);
      const digest = manifest.headers.get('docker-content-digest');
      const local = await docker.getImage(image).inspect();
      assert.ok(
        local.RepoDigests.includes(`${env.registry}/${repo}@${digest}`),
        `${digest} vs ${local.RepoDigests.join(',')}`,
      );
    }
  });

  it('a plain container from the sim image runs node on the host network and answers on 127.0.0.1', async () => {
    const port = await findFreePort();
    const name = `${prefix}-node`;
    try {
      const container = await docker.createContainer({
        name,
        Image: env.simImage,
        Entrypoint: ['/usr/bin/node'],
        Cmd: ['-e', nodeServerScript(port, 'hello from the sim image')],
        HostConfig: { NetworkMode: 'host' },
      });
      await container.start();
      const answer = await waitForUrl(`http://127.0.0.1:${port}/`, 15_000);
      assert.equal(answer.body, 'hello from the sim image');
      const started = Date.now();
      await container.stop({ t: 10 });
      assert.ok(Date.now() - started < 5000, 'a SIGTERM handler makes docker stop quick');
    } finally {
      await removeContainer(docker, name);
    }
  });

  it('the sim image runs the Ollama simulator CLI and answers like Ollama', async (t) => {
    if (!existsSync(join(env.repo, SIM_MAIN))) {
      t.skip(`${SIM_MAIN} is not built in ${env.repo} (the simulator CLI does not exist yet)`);
      return;
    }
    const port = await findFreePort();
    const name = `${prefix}-sim`;
    try {
      const container = await docker.createContainer({
        name,
        Image: env.simImage,
        Cmd: ['--host', '127.0.0.1', '--port', String(port)],
        HostConfig: { NetworkMode: 'host' },
      });
      await container.start();
      const answer = await waitForUrl(`http://127.0.0.1:${port}/api/version`, 20_000).catch(async (error: Error) => {
        const logs = await container.logs({ stdout: true, stderr: true }).catch(() => '');
        throw new Error(`${error.message}\n--- container logs ---\n${String(logs)}`);
      });
      assert.equal(typeof (JSON.parse(answer.body) as { version: unknown }).version, 'string');
    } finally {
      await removeContainer(docker, name);
    }
  });

  it('the fake nvidia-smi and busybox work inside the sim image', async (t) => {
    if (!existsSync(join(env.repo, 'dist/test/sim/fake-nvidia-smi-main.js'))) {
      t.skip('dist/test/sim/fake-nvidia-smi-main.js is not built');
      return;
    }
    const { stdout } = await runDockerCli(env, [
      'run',
      '--rm',
      '--network',
      'host',
      '--entrypoint',
      '/bin/sh',
      env.simImage,
      '-c',
      'nvidia-smi -L',
    ]);
    assert.match(stdout, /^GPU 0: .+ \(UUID: GPU-[0-9a-f-]+\)/m);
  });

  it('the shell image runs a busybox shell', async () => {
    const { stdout } = await runDockerCli(env, [
      'run',
      '--rm',
      '--network',
      'host',
      env.shellImage,
      'sh',
      '-c',
      'echo "$((6 * 7)) $(id -u)"',
    ]);
    assert.equal(stdout.trim(), '42 0');
  });

  it('a one-node Swarm is active and this node manages it', async () => {
    const info = await docker.info();
    assert.equal(info.Swarm.LocalNodeState, 'active');
    assert.equal(info.Swarm.ControlAvailable, true);
    assert.equal(info.Swarm.Nodes, 1);
    assert.equal(info.Swarm.NodeAddr, '127.0.0.1');
  });

  it('a tiny stack on the host network deploys with --resolve-image never and is removed', async () => {
    const port = await findFreePort();
    const stack = `smoke${process.pid}`;
    const compose = {
      version: '3.8',
      services: {
        web: {
          image: env.simImage,
          entrypoint: ['/usr/bin/node', '-e', nodeServerScript(port, 'hello from swarm')],
          networks: ['hostnet'],
          stop_grace_period: '2s',
          deploy: {
            replicas: 1,
            update_config: { delay: '0s', monitor: '1s' },
            restart_policy: { condition: 'any', delay: '1s' },
          },
        },
      },
      // Ingress publishing does not answer on the test machines; the host network does.
      networks: { hostnet: { external: true, name: 'host' } },
    };
    try {
      await deployStack(env, stack, compose);
      const answer = await waitForUrl(`http://127.0.0.1:${port}/`, 30_000);
      assert.equal(answer.body, 'hello from swarm');
      const [service] = await docker.listServices({ filters: { label: [`com.docker.stack.namespace=${stack}`] } });
      const template = service?.Spec?.TaskTemplate as { ContainerSpec?: { Image?: string } } | undefined;
      assert.equal(template?.ContainerSpec?.Image, env.simImage, 'image used as named, not resolved to a digest');
    } finally {
      await removeStack(env, stack);
    }
    await assert.rejects(fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) }));
  });

  describe('Prometheus and Alertmanager on loopback', () => {
    let webhook: Server | undefined;
    const daemons: HttpDaemonHandle[] = [];
    after(async () => {
      for (const daemon of daemons.reverse()) await daemon.stop();
      if (webhook) await new Promise<void>((resolve) => webhook!.close(() => resolve()));
    });

    it('start, answer readiness, and carry a firing alert to a webhook', async () => {
      const received: unknown[] = [];
      webhook = createServer((req: IncomingMessage, res) => {
        let body = '';
        req.on('data', (chunk: Buffer) => (body += chunk.toString()));
        req.on('end', () => {
          received.push(JSON.parse(body));
          res.end('ok');
        });
      });
      await new Promise<void>((resolve) => webhook!.listen(0, '127.0.0.1', resolve));
      const webhookPort = (webhook.address() as { port: number }).port;

      const alertmanager = await startAlertmanager({
        config: {
          route: { receiver: 'hook', group_wait: '0s', group_interval: '1s', repeat_interval: '1h' },
          receivers: [
            { name: 'hook', webhook_configs: [{ url: `http://127.0.0.1:${webhookPort}/alert`, send_resolved: false }] },
          ],
        },
      });
      daemons.push(alertmanager);
      assert.equal((await fetch(`${alertmanager.url}/-/ready`)).status, 200);

      const prometheus = await startPrometheus({
        config: {
          global: { scrape_interval: '1s', evaluation_interval: '1s' },
          rule_files: ['rules.yml'],
          alerting: { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${alertmanager.port}`] }] }] },
        },
        files: {
          'rules.yml': {
            groups: [
              {
                name: 'smoke',
                rules: [{ alert: 'SentinelSmokeAlways', expr: 'vector(1)', labels: { severity: 'test' } }],
              },
            ],
          },
        },
      });
      daemons.push(prometheus);
      assert.equal((await fetch(`${prometheus.url}/-/ready`)).status, 200);

      const payload = await waitFor(() => received[0] as { alerts: { labels: Record<string, string> }[] } | undefined, {
        timeoutMs: 30_000,
        what: 'the alert at the webhook',
      });
      assert.equal(payload.alerts[0]?.labels.alertname, 'SentinelSmokeAlways');
      assert.equal(payload.alerts[0]?.labels.severity, 'test');
    });
  });
});
