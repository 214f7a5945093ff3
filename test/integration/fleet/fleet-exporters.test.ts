// The shipped fleet stack (deploy/swarm/fleet-stack.yml), deployed with `docker stack deploy` on the test fleet
// (test/setup/fleet-swarm.sh: three managers, each in its own network namespace, nodes 2 and 3 labelled as GPU
// nodes): Ollama (the simulator) and the exporter run on every GPU node and on no other, each exporter with its
// node's own Docker, fake GPU and Ollama, answering on its node's address.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { parseExposition } from '../../helpers/parse-exposition.js';
import { firingWebhook } from '../../helpers/firing-webhook.js';
import { fleetEnvSkip, readFleetEnv, type FleetEnv, type FleetNode } from '../../helpers/read-fleet-env.js';
import { runDockerCli, type RunDockerCliOptions } from '../../helpers/run-docker-cli.js';
import { waitFor } from '../../helpers/wait-for.js';

/** dist/test/integration/fleet/ -> the checkout: its stack file, and its dist/ for the fake nvidia-smi. */
const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const STACK_FILE = join(REPO, 'deploy', 'swarm', 'fleet-stack.yml');
/** The stack name fleet-sentinel.yaml's swarm target assumes (fleet_ollama). */
const STACK = 'fleet';
/** Where the checkout is bound read-only in the exporter's container, for the fake nvidia-smi's code. */
const REPO_IN_CONTAINER = '/opt/sentinel-repo';
/** A label no node has: the stack's services this scenario does not run get it as a constraint, so none starts. */
const HELD = 'node.labels.sentinel-test.held == true';
const HELD_SERVICES = ['ollama-init', 'prometheus', 'alertmanager'];
/** The model the simulator has, as on its volume: the one fleet-sentinel.yaml keeps warm. */
const MODEL = 'gpt-oss:20b';
const EXPORTER_PORT = 9778;
const REMEDIATOR_PORT = 9779;
const SECRETS = ['sentinel-exporter-password', 'sentinel-remediator-token'];
/** fleet.exporterUsername in deploy/monitoring/monitoring-config.ts, as fleet-sentinel.yaml sets it. */
const EXPORTER_USER = 'prometheus';

/** A GPU uuid of the node's own (each fake GPU differs, so a scrape proves which node's state it read). */
function gpuUuid(node: FleetNode): string {
  return `GPU-f1ee7000-0000-4000-8000-00000000000${node.index}`;
}

function gpuState(node: FleetNode): string {
  return [
    'driver 580.159.04 13.0',
    `gpu 0 ${gpuUuid(node)} 00000000:00:0${node.index}.0 81559 480 0 0 0 37 94.33 700.00 700.00 345 P0 0 0x0000000000000001 0 NVIDIA H100 80GB HBM3`,
    'container_nvml_lost 0',
    '',
  ].join('\n');
}

function nodeClient(node: FleetNode): Docker {
  // docker-modem lets DOCKER_HOST and friends win over socketPath unless each is set.
  return new Docker({
    socketPath: node.socket,
    host: undefined,
    port: undefined,
    protocol: undefined,
    timeout: 30_000,
  });
}

/** The docker CLI against one node's daemon. */
function docker(fleet: FleetEnv, node: FleetNode, args: readonly string[], options: RunDockerCliOptions = {}) {
  return runDockerCli({ dockerHost: node.dockerHost, dockerConfig: fleet.dockerConfig }, args, options);
}

async function scrape(node: FleetNode, password?: string): Promise<{ status: number; body: string }> {
  const headers: Record<string, string> = {};
  if (password !== undefined) {
    headers.authorization = `Basic ${Buffer.from(`${EXPORTER_USER}:${password}`).toString('base64')}`;
  }
  const res = await fetch(`http://${node.addr}:${EXPORTER_PORT}/metrics`, {
    headers,
    signal: AbortSignal.timeout(5_000),
  });
  return { status: res.status, body: await res.text() };
}

describe(
  'fleet stack on a three-node Swarm: Ollama, the exporter and the remediator on every GPU node',
  { skip: fleetEnvSkip() },
  () => {
    let fleet: FleetEnv;
    let manager: FleetNode;
    let dir: string;
    const password = randomBytes(16).toString('hex');
    const token = randomBytes(16).toString('hex');

    const writeScript = async (name: string, body: string): Promise<string> => {
      const file = join(dir, name);
      await writeFile(file, `#!/bin/sh\n${body}\n`);
      await chmod(file, 0o755);
      return file;
    };

    before(async () => {
      fleet = readFleetEnv();
      manager = fleet.nodes[0]!;
      dir = join(fleet.tmpDir, `fleet-exporters-${process.pid}`);
      // Each node's own fake GPU, bound into its task by Swarm's {{.Node.ID}} template (one spec for the global
      // service, a different folder per node: as each real node has its own /dev/nvidia*).
      for (const node of fleet.nodes) {
        const gpuDir = join(dir, node.id);
        await mkdir(gpuDir, { recursive: true });
        await writeFile(join(gpuDir, 'gpu.state'), gpuState(node));
        // The simulator runs as the image's user (1000) and rewrites the file through a temporary one beside it.
        await chmod(gpuDir, 0o777);
        await chmod(join(gpuDir, 'gpu.state'), 0o666);
        // The remediator's data_dir on this node (its journal and audit log), readable here.
        await mkdir(join(gpuDir, 'remediator'), { recursive: true });
      }
      // The fake nvidia-smi where the NVIDIA container toolkit would bind the real one (a PATH folder of the image).
      const smi = await writeScript(
        'nvidia-smi',
        `exec /usr/bin/node ${REPO_IN_CONTAINER}/dist/test/sim/fake-nvidia-smi-main.js "$@"`,
      );
      // A stand-in `ollama` CLI for the shipped healthcheck (`ollama list`): asks the local server for its models and
      // fails when it does not answer, as the real one does.
      const ollamaCli = await writeScript(
        'ollama',
        `exec /usr/bin/node -e "fetch('http://127.0.0.1:11434/api/tags').then(r => r.ok ? r.json() : process.exit(1)).then(t => console.log(t.models.map(m => m.name).join('\\n')), () => process.exit(1))"`,
      );
      // Swarm secrets are external to the stack (its header says how to make them); left over by a killed run: replaced.
      await docker(fleet, manager, ['secret', 'rm', ...SECRETS], { reject: false });
      for (const [name, value] of [
        ['sentinel-exporter-password', password],
        ['sentinel-remediator-token', token],
      ] as const) {
        await docker(fleet, manager, ['secret', 'create', name, '-'], { input: value });
      }
      // The shipped file as it is, plus an override in a second file (merged by `docker stack deploy -c a -c b`): the
      // exporter's node socket, fake GPU and fake nvidia-smi, and every other service held off (not part of this
      // scenario; Prometheus and Alertmanager images are not built here).
      // Swarm reports a task with a healthcheck as running only once it is healthy, and Docker 20.10 runs the first
      // check one interval after the start: the shipped 30 s would make every deploy wait that long.
      const FAST_TASK = {
        healthcheck: { interval: '2s' },
        deploy: { update_config: { delay: '0s', monitor: '1s' } },
        stop_grace_period: '2s',
      };
      const bind = (source: string, target: string) => ({ type: 'bind', source, target, read_only: true });
      const override = {
        services: {
          exporter: {
            environment: { SENTINEL_FAKE_GPU_STATE: '/gpu/gpu.state' },
            volumes: [
              bind(`${fleet.byIdDir}/{{.Node.ID}}/docker.sock`, '/var/run/docker.sock'),
              bind(`${dir}/{{.Node.ID}}`, '/gpu'),
              bind(REPO, REPO_IN_CONTAINER),
              bind(smi, '/usr/local/bin/nvidia-smi'),
            ],
            ...FAST_TASK,
          },
          // The Ollama simulator in place of ollama/ollama (OLLAMA_IMAGE is the product image: it has node), on each GPU
          // node's loopback as the stack's OLLAMA_HOST says, writing its runners into that node's fake GPU state.
          ollama: {
            entrypoint: ['/usr/bin/node', `${REPO_IN_CONTAINER}/dist/test/sim/ollama-sim-main.js`],
            command: ['--models', MODEL],
            environment: { SENTINEL_FAKE_GPU_STATE: '/gpu/gpu.state' },
            volumes: [
              { type: 'bind', source: `${dir}/{{.Node.ID}}`, target: '/gpu' },
              bind(REPO, REPO_IN_CONTAINER),
              bind(ollamaCli, '/usr/local/bin/ollama'),
            ],
            ...FAST_TASK,
          },
          // Each GPU node's remediator, on its node's own Docker socket (read-write) and its own data folder.
          remediator: {
            volumes: [
              { type: 'bind', source: `${fleet.byIdDir}/{{.Node.ID}}/docker.sock`, target: '/var/run/docker.sock' },
              { type: 'bind', source: `${dir}/{{.Node.ID}}/remediator`, target: '/var/lib/ollama-sentinel' },
            ],
            ...FAST_TASK,
          },
          ...Object.fromEntries(HELD_SERVICES.map((s) => [s, { deploy: { placement: { constraints: [HELD] } } }])),
        },
      };
      const overrideFile = join(dir, 'override.yml');
      await writeFile(overrideFile, stringify(override));
      await execa(
        'docker',
        ['stack', 'deploy', '--resolve-image', 'never', '-c', STACK_FILE, '-c', overrideFile, STACK],
        {
          env: {
            DOCKER_HOST: manager.dockerHost,
            DOCKER_CONFIG: fleet.dockerConfig,
            SENTINEL_IMAGE: fleet.image,
            OLLAMA_IMAGE: fleet.image,
            // The exporter's user is 1000:${DOCKER_GID}: the group that may read the node's Docker socket.
            DOCKER_GID: String(statSync(manager.socket).gid),
          },
          timeout: 60_000,
        },
      );
    });

    after(async () => {
      if (!fleet) return;
      await docker(fleet, manager, ['stack', 'rm', STACK], { reject: false });
      // Its containers gone from every node, so the next test starts from an empty fleet.
      await waitFor(
        async () => {
          for (const node of fleet.nodes)
            if ((await nodeClient(node).listContainers({ all: true })).length) return false;
          return true;
        },
        { timeoutMs: 30_000, what: "the stack's containers to be gone" },
      ).catch(() => {});
      await docker(fleet, manager, ['secret', 'rm', ...SECRETS], { reject: false });
      await rm(dir, { recursive: true, force: true });
    });

    it('runs one exporter and one Ollama task on each GPU node and none on the node without the GPU label', async () => {
      const gpuNodes = fleet.nodes.filter((n) => n.gpu).map((n) => n.id);
      const api = nodeClient(manager);
      for (const service of ['exporter', 'ollama']) {
        // Running = healthy by the stack's own healthcheck (Swarm holds a task in "starting" until then).
        const tasks = await waitFor(
          async () => {
            const all = (await api.listTasks({
              filters: { service: [`${STACK}_${service}`], 'desired-state': ['running'] },
            })) as { NodeID: string; Status: { State: string } }[];
            return all.length === gpuNodes.length && all.every((t) => t.Status.State === 'running') ? all : false;
          },
          { timeoutMs: 90_000, intervalMs: 500, what: `a ${service} task running on each GPU node` },
        );
        assert.deepEqual(tasks.map((t) => t.NodeID).sort(), [...gpuNodes].sort(), `${service}: GPU nodes only`);
      }
      const nonGpu = fleet.nodes.filter((n) => !n.gpu);
      assert.ok(nonGpu.length > 0, 'the fleet has a node without the GPU label');
      for (const node of nonGpu) {
        // Nothing listens on its exporter port either: the node's namespace has no exporter of any task.
        await assert.rejects(scrape(node, password), `no exporter answers on node ${node.index} (${node.addr})`);
      }
    });

    it("each GPU node's exporter answers on its node's address with its own node id, GPU and Ollama container", async () => {
      for (const node of fleet.nodes.filter((n) => n.gpu)) {
        const metrics = await waitFor(
          async () => {
            const { status, body } = await scrape(node, password);
            if (status !== 200) throw new Error(`HTTP ${status}: ${body.slice(0, 200)}`);
            const m = parseExposition(body);
            return m.has('sentinel_node_info') && m.has('sentinel_gpu_info') ? m : false;
          },
          {
            timeoutMs: 60_000,
            intervalMs: 500,
            what: `node ${node.index}'s exporter at ${node.addr} to report its node and GPU`,
          },
        );
        const info = metrics.all('sentinel_node_info');
        assert.equal(info.length, 1, metrics.text);
        assert.equal(info[0]!.labels.node_id, node.id, `node ${node.index}: sentinel_node_info is its own node's`);
        assert.equal(info[0]!.labels.swarm_state, 'active');
        assert.deepEqual(
          metrics.all('sentinel_gpu_info').map((s) => s.labels.uuid),
          [gpuUuid(node)],
          `node ${node.index}: the exporter reads its own node's GPU only`,
        );
        // Its own node's Ollama task (on that node's loopback), found in its own node's Docker: the container id is
        // the one this node's daemon runs, never the other GPU node's.
        const [local] = await nodeClient(node).listContainers({
          filters: { label: [`com.docker.swarm.service.name=${STACK}_ollama`] },
        });
        assert.ok(local, `node ${node.index} runs a ${STACK}_ollama container`);
        const current = await waitFor(
          async () => {
            const m = parseExposition((await scrape(node, password)).body);
            return m.get('sentinel_ollama_up', { target: 'main' }) === 1 &&
              m.get('sentinel_ollama_container_running', { target: 'main' }) === 1
              ? m
              : false;
          },
          {
            timeoutMs: 60_000,
            intervalMs: 500,
            what: `node ${node.index}'s exporter to see its Ollama up and its container`,
          },
        );
        assert.deepEqual(
          current.all('sentinel_ollama_container_info', { target: 'main' }).map((s) => s.labels.id),
          [local.Id],
          `node ${node.index}: the Ollama container the exporter reports is its own node's`,
        );
        // The basic auth of the shipped config is on, with the password Swarm delivered as the secret.
        assert.equal((await scrape(node)).status, 401, `node ${node.index}: /metrics without credentials`);
      }
    });

    it("each GPU node's remediator takes its own node's alerts and refuses the other node's, on the real Swarm", async () => {
      const [a, b] = fleet.nodes.filter((n) => n.gpu);
      assert.ok(a && b, 'two GPU nodes');
      const post = async (to: FleetNode, node: string) => {
        const res = await fetch(`http://${to.addr}:${REMEDIATOR_PORT}/webhook`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify(
            firingWebhook({ alertname: 'OllamaProbeHung', ollama: 'main', remediate: 'true', node }),
          ),
          signal: AbortSignal.timeout(10_000),
        });
        return { status: res.status, body: (await res.json()) as { accepted: number; refused: { reason: string }[] } };
      };
      for (const [own, other] of [
        [a, b],
        [b, a],
      ] as const) {
        await waitFor(
          async () =>
            (await fetch(`http://${own.addr}:${REMEDIATOR_PORT}/healthz`, { signal: AbortSignal.timeout(2000) })).ok,
          { timeoutMs: 90_000, intervalMs: 500, what: `node ${own.index}'s remediator to answer at ${own.addr}` },
        );
        // Misrouted (the same target name "main" runs on every node): audited, refused, never acted on here.
        const misrouted = await post(own, other.id);
        assert.equal(misrouted.status, 200, 'answered, so Alertmanager does not retry it here');
        assert.deepEqual(
          misrouted.body.refused.map((r) => r.reason),
          ['other_node'],
          `node ${own.index} refuses node ${other.index}'s alert: ${JSON.stringify(misrouted.body)}`,
        );
        // Its own: accepted (the target is healthy, so the diagnosis then finds nothing to do).
        const mine = await post(own, own.id);
        assert.equal(mine.body.accepted, 1, `node ${own.index} takes its own alert: ${JSON.stringify(mine.body)}`);
        const audit = await readFile(join(dir, own.id, 'remediator', 'audit.jsonl'), 'utf8');
        const refusal = audit
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .find((e) => e.reason === 'other_node');
        assert.equal(refusal?.own_node, own.id, `node ${own.index}'s audit names its own node:\n${audit}`);
        assert.equal(refusal?.alert_node, other.id);
      }
    });
  },
);
