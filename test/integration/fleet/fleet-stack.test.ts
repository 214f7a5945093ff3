// The shipped fleet stack (deploy/swarm/fleet-stack.yml), deployed with `docker stack deploy` on the test fleet
// (test/setup/fleet-swarm.sh: three managers, each in its own network namespace, nodes 2 and 3 labelled as GPU
// nodes): Ollama (the simulator), the exporter and the remediator run on every GPU node and on no other, each with its
// node's own Docker, fake GPU and Ollama, answering on its node's address; Prometheus (the Debian binary) finds them
// through the manager's Docker API and Alertmanager routes each node's alerts to that node's remediator: a fault on
// one node is healed there, by that node's remediator, and nowhere else.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { execa } from 'execa';
import { parse, stringify } from 'yaml';
import { readAuditLog, readPrometheusAlerts, type AuditRecord } from '../../../deploy/demo/chain-observers.js';
import { injectCpuFallback } from '../../../deploy/demo/inject-fault.js';
import { renderFastRules } from '../../../deploy/demo/render-fast-rules.js';
import { fleetManagers, fleetNodes } from '../../../deploy/monitoring/fleet-nodes.js';
import { monitoringConfig } from '../../../deploy/monitoring/monitoring-config.js';
import { renderFleetAlertmanager } from '../../../deploy/monitoring/render-fleet-alertmanager.js';
import { modelRequestFields } from '../../../shared/ollama/model-request-fields.js';
import { loadDeployConfig } from '../../helpers/load-deploy-config.js';
import { testDeps as actionTestDeps } from '../../helpers/action-test-deps.js';
import { readGpuState } from '../../sim/gpu-state.js';
import { runAction } from '../../../remediator/actions/run-action.js';
import { ownNodeFromInfo } from '../../../remediator/node/own-node.js';
import { TargetHistory } from '../../../remediator/state/target-history.js';
import { readProcessIdentity } from '../../../shared/proc/read-process-identity.js';
import { parseExposition } from '../../helpers/parse-exposition.js';
import { firingWebhook } from '../../helpers/firing-webhook.js';
import { fleetEnvSkip, readFleetEnv, type FleetEnv, type FleetNode } from '../../helpers/read-fleet-env.js';
import { runDockerCli, type RunDockerCliOptions } from '../../helpers/run-docker-cli.js';
import { waitFor } from '../../helpers/wait-for.js';

/** dist/test/integration/fleet/ -> the checkout: its stack file, and its dist/ for the fake nvidia-smi. */
const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const STACK_FILE = join(REPO, 'deploy', 'swarm', 'fleet-stack.yml');
const SENTINEL_CONFIG = join(REPO, 'deploy', 'swarm', 'fleet-sentinel.yaml');
const FLEET_MANAGER_CONFIG = join(REPO, 'deploy', 'swarm', 'fleet-manager-sentinel.yaml');
const PROMETHEUS_CONFIG = join(REPO, 'deploy', 'prometheus', 'prometheus-fleet.yml');
/** The stack name fleet-sentinel.yaml's swarm target assumes (fleet_ollama). */
const STACK = 'fleet';
/** Where the checkout is bound read-only in the exporter's container, for the fake nvidia-smi's code. */
const REPO_IN_CONTAINER = '/opt/sentinel-repo';
const NODE_CONFIG = loadDeployConfig('deploy/swarm/fleet-sentinel.yaml');
/** The model the simulator has, as on its volume: the one fleet-sentinel.yaml keeps warm. */
const MODEL = NODE_CONFIG.models[0]!;
/** Its Ollama target: the swarm service fleet_ollama, as each node's remediator has it. */
const TARGET = NODE_CONFIG.ollama[0]!;
const CPU_FALLBACK = 'OllamaGpuIdleWhileModelLoaded';
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

    const auditOf = (node: FleetNode): Promise<AuditRecord[]> => readAuditLog(join(dir, node.id, 'remediator'));
    const writeText = async (name: string, text: string): Promise<string> => {
      const file = join(dir, name);
      await writeFile(file, text);
      return file;
    };
    /** fleet-sentinel.yaml with test intervals and no cooldown: the same rules, targets and node scope. */
    const fastSentinelConfig = async (): Promise<string> => {
      const cfg = parse(await readFile(SENTINEL_CONFIG, 'utf8')) as Record<string, Record<string, unknown>>;
      cfg.gpu = { ...cfg.gpu, interval: '5s' }; // the fake nvidia-smi is a node process: 2 per interval per node
      cfg.exporter = { ...cfg.exporter, ollama_interval: '2s', probe_interval: '3s', containers_interval: '2s' };
      cfg.remediator = { ...cfg.remediator, cooldown: '0s' };
      // A load with no progress counts as stalled after 15 s instead of 5 min.
      cfg.ollama = (cfg.ollama as unknown as Record<string, unknown>[]).map((t) => ({
        ...t,
        load_stall_timeout: '15s',
      })) as never;
      return writeText('fleet-sentinel.yaml', stringify(cfg));
    };
    /** fleet-manager-sentinel.yaml without cooldown: two scenarios restart the service fleet-wide minutes apart. */
    const fastFleetManagerConfig = async (): Promise<string> => {
      const cfg = parse(await readFile(FLEET_MANAGER_CONFIG, 'utf8')) as Record<string, Record<string, unknown>>;
      cfg.remediator = { ...cfg.remediator, cooldown: '0s' };
      return writeText('fleet-manager-sentinel.yaml', stringify(cfg));
    };
    const fastPrometheusConfig = async (): Promise<string> =>
      writeText(
        'prometheus-fleet.yml',
        (await readFile(PROMETHEUS_CONFIG, 'utf8'))
          .replace(/scrape_interval: 15s/, 'scrape_interval: 2s')
          .replace(/scrape_timeout: 10s/, 'scrape_timeout: 2s')
          .replace(/evaluation_interval: 15s/, 'evaluation_interval: 2s')
          .replaceAll('refresh_interval: 30s', 'refresh_interval: 5s'),
      );
    /** `docker node inspect` of every node -> the shipped renderer, as an operator does it (group_wait shortened). */
    const renderAlertmanagerConfig = async (): Promise<string> => {
      const ids = (await docker(fleet, manager, ['node', 'ls', '-q'])).stdout.split('\n').filter(Boolean);
      const inspected = JSON.parse((await docker(fleet, manager, ['node', 'inspect', ...ids])).stdout) as unknown;
      const nodes = fleetNodes(inspected, monitoringConfig.fleet);
      const text = renderFleetAlertmanager(monitoringConfig, nodes, fleetManagers(inspected), 'the test fleet');
      // group_interval too: the second scenario's alert joins the group the first one's notified, which waits that long.
      return writeText(
        'alertmanager-fleet.yml',
        text
          .replace(/group_wait: 30s/, 'group_wait: 1s')
          .replace(/group_interval: 5m/, 'group_interval: 5s')
          .replace(/group_interval: 1m/, 'group_interval: 5s'), // the fleet route's
      );
    };

    /**
     * The stack's named volumes on every node: `docker stack rm` keeps them, and a kept Alertmanager notification log
     * would take the next run's alerts (same labels, same node ids) for ones it already sent.
     */
    const removeVolumes = async () => {
      for (const node of fleet.nodes) {
        const names = (
          await docker(fleet, node, ['volume', 'ls', '-q', '--filter', `label=com.docker.stack.namespace=${STACK}`])
        ).stdout
          .split('\n')
          .filter(Boolean);
        if (names.length) await docker(fleet, node, ['volume', 'rm', '-f', ...names], { reject: false });
      }
    };

    before(async () => {
      fleet = readFleetEnv();
      manager = fleet.nodes[0]!;
      dir = join(fleet.tmpDir, `fleet-stack-${process.pid}`);
      // Each node's own fake GPU, bound into its task by Swarm's {{.Node.ID}} template (one spec for the global
      // service, a different folder per node: as each real node has its own /dev/nvidia*).
      for (const node of fleet.nodes) {
        const gpuDir = join(dir, node.id);
        await mkdir(gpuDir, { recursive: true });
        await writeFile(join(gpuDir, 'gpu.state'), gpuState(node));
        // The simulator runs as the image's user (1000) and rewrites the file through a temporary one beside it.
        await chmod(gpuDir, 0o777);
        await chmod(join(gpuDir, 'gpu.state'), 0o666);
        // The remediators' data_dir on this node (journal and audit log), readable here.
        await mkdir(join(gpuDir, 'remediator'), { recursive: true });
        await mkdir(join(gpuDir, 'fleet-remediator'), { recursive: true });
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
      // The simulator as `ollama serve` (as deploy/demo/sim-entrypoint.sh does for the demo's image): /proc then shows
      // what a real Ollama shows, a server whose children are its runners (else they count as orphans).
      const simEntrypoint = await writeScript(
        'sim-entrypoint.sh',
        [
          'set -eu',
          'dir=/tmp/ollama',
          `/usr/bin/node -e "import('${REPO_IN_CONTAINER}/dist/test/sim/prepare-ollama-executable-dir.js').then((m) => m.prepareOllamaExecutableDir('$dir', { simMainPath: '${REPO_IN_CONTAINER}/dist/test/sim/ollama-sim-main.js' }))"`,
          'cd "$dir"',
          'exec "$dir/ollama" serve "$@"',
        ].join('\n'),
      );
      await removeVolumes(); // left by a run that was killed or kept its stack
      // Swarm secrets are external to the stack (its header says how to make them); left over by a killed run: replaced.
      await docker(fleet, manager, ['secret', 'rm', ...SECRETS], { reject: false });
      for (const [name, value] of [
        ['sentinel-exporter-password', password],
        ['sentinel-remediator-token', token],
      ] as const) {
        await docker(fleet, manager, ['secret', 'create', name, '-'], { input: value });
      }
      // The shipped file as it is, plus an override in a second file (merged by `docker stack deploy -c a -c b`): what
      // a GPU host has and this machine lacks (each node's socket, fake GPU and nvidia-smi, the simulator), images
      // there is no registry for, and test timings.
      // Swarm reports a task with a healthcheck as running only once it is healthy, and Docker 20.10 runs the first
      // check one interval after the start: the shipped 30 s would make every deploy wait that long.
      // Checks every 3 s with a long timeout: eight tasks on two cores, each check a node start.
      const FAST_TASK = {
        healthcheck: { interval: '3s', timeout: '30s' },
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
            entrypoint: ['/bin/sh', '/sim-entrypoint.sh'],
            command: ['--models', MODEL.name],
            // Also on the node's address, so this test can inject faults (POST /_sim/faults) from outside the node.
            // Its runners are written into the GPU state by host PID, as the driver reports them (test/sim/host-pid-map.ts).
            environment: {
              SENTINEL_FAKE_GPU_STATE: '/gpu/gpu.state',
              OLLAMA_HOST: '0.0.0.0:11434',
              SENTINEL_FAKE_HOST_PROC: '/host/proc',
            },
            volumes: [
              { type: 'bind', source: `${dir}/{{.Node.ID}}`, target: '/gpu' },
              bind('/proc', '/host/proc'),
              bind(REPO, REPO_IN_CONTAINER),
              bind(ollamaCli, '/usr/local/bin/ollama'),
              bind(simEntrypoint, '/sim-entrypoint.sh'),
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
          // Each manager's fleet remediator, on its node's own socket (a manager's: the services API) and data folder.
          'fleet-remediator': {
            volumes: [
              { type: 'bind', source: `${fleet.byIdDir}/{{.Node.ID}}/docker.sock`, target: '/var/run/docker.sock' },
              { type: 'bind', source: `${dir}/{{.Node.ID}}/fleet-remediator`, target: '/var/lib/ollama-sentinel' },
            ],
            ...FAST_TASK,
          },
          // Debian's Prometheus and Alertmanager (no image registry here): their binaries run from the product image
          // (the same libc); the shipped command lines, configs and secrets stay. The manager's socket is its own.
          prometheus: {
            image: fleet.image,
            entrypoint: ['/usr/local/bin/prometheus'],
            volumes: [
              bind(`${fleet.byIdDir}/{{.Node.ID}}/docker.sock`, '/var/run/docker.sock'),
              bind('/usr/bin/prometheus', '/usr/local/bin/prometheus'),
            ],
            ...FAST_TASK,
            healthcheck: { disable: true },
          },
          alertmanager: {
            image: fleet.image,
            entrypoint: ['/usr/local/bin/alertmanager'],
            user: '0:0', // the prom/alertmanager image owns its volume folder; this image does not
            volumes: [
              bind('/usr/bin/prometheus-alertmanager', '/usr/local/bin/alertmanager'),
              // Debian's build reads its notification templates from here.
              bind('/usr/share/prometheus/alertmanager', '/usr/share/prometheus/alertmanager'),
            ],
            ...FAST_TASK,
            healthcheck: { disable: true },
          },
        },
        // The shipped files with test timings only (intervals, `for:` capped at 10 s, group_wait 1 s, no cooldown:
        // two scenarios restart the same node, and two the whole service, minutes apart); every rule, route and
        // relabeling as shipped.
        configs: {
          'sentinel-config': { file: await fastSentinelConfig() },
          'fleet-manager-config': { file: await fastFleetManagerConfig() },
          'prometheus-config': { file: await fastPrometheusConfig() },
          'prometheus-rules': {
            // As in the single-host suites: a node's task restart (a heal, or the fleet's rolling restart) leaves its
            // API down for seconds, which the shipped for: 2m never fires on; 10 s could, and in a fleet that alert
            // goes to the fleet remediator, which would count the heal's own gap as a fault.
            file: await writeText(
              'rules.yml',
              renderFastRules({ maxFor: '10s', alerts: { OllamaApiDown: { for: '30s' } } }),
            ),
          },
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
            // The Alertmanager config rendered from this Swarm's own node list, as the stack file's header says.
            SENTINEL_FLEET_ALERTMANAGER: await renderAlertmanagerConfig(),
          },
          timeout: 60_000,
        },
      );
    });

    after(async () => {
      if (!fleet) return;
      // To look at a failure on the running stack: rerun with it set, then `docker stack rm fleet` on node 1.
      if (process.env.SENTINEL_FLEET_KEEP_STACK === '1') return;
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
      await removeVolumes();
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
      const startsAt = new Date();
      const post = async (to: FleetNode, node: string, resolved = false) => {
        const payload = firingWebhook(
          { alertname: 'OllamaProbeHung', ollama: 'main', remediate: 'true', node },
          { startsAt, fingerprint: `f1ee7${node.slice(0, 11)}` },
        ) as { status: string; alerts: { status: string; endsAt: string }[] };
        if (resolved) {
          // As Alertmanager resolves it: the same alert, ended, so no incident is left open for the next scenarios.
          payload.status = payload.alerts[0]!.status = 'resolved';
          payload.alerts[0]!.endsAt = new Date().toISOString();
        }
        const res = await fetch(`http://${to.addr}:${REMEDIATOR_PORT}/webhook`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify(payload),
          signal: AbortSignal.timeout(10_000),
        });
        return { status: res.status, body: (await res.json()) as { accepted: number; refused: { reason: string }[] } };
      };
      // As Alertmanager does: a 503 (the remediator cannot tell its own node yet, e.g. its Docker is slow to answer on a
      // busy host) is sent again.
      const deliver = (to: FleetNode, node: string) =>
        waitFor(
          async () => {
            const r = await post(to, node);
            return r.status === 503 ? false : r;
          },
          { timeoutMs: 60_000, intervalMs: 1000, what: `node ${to.index}'s remediator to take the alert (not 503)` },
        );
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
        const misrouted = await deliver(own, other.id);
        assert.equal(misrouted.status, 200, 'answered, so Alertmanager does not retry it here');
        assert.deepEqual(
          misrouted.body.refused.map((r) => r.reason),
          ['other_node'],
          `node ${own.index} refuses node ${other.index}'s alert: ${JSON.stringify(misrouted.body)}`,
        );
        // Its own: accepted (the target is healthy, so the diagnosis then finds nothing to do).
        const mine = await deliver(own, own.id);
        assert.equal(mine.body.accepted, 1, `node ${own.index} takes its own alert: ${JSON.stringify(mine.body)}`);
        const audit = await auditOf(own);
        const refusal = audit.find((e) => e.reason === 'other_node');
        assert.equal(
          refusal?.own_node,
          own.id,
          `node ${own.index}'s audit names its own node:\n${audit.map((e) => e.raw).join('\n')}`,
        );
        assert.equal(refusal?.alert_node, other.id);
        assert.equal((await post(own, own.id, true)).status, 200);
        await waitFor(
          async () => {
            const lines = await auditOf(own);
            const opened = lines.find(
              (e) => e.kind === 'alert' && e.alert?.alertname === 'OllamaProbeHung' && e.incident,
            );
            return lines.some((e) => e.kind === 'close' && e.incident === opened?.incident);
          },
          { timeoutMs: 60_000, intervalMs: 500, what: `node ${own.index}'s test incident to close once resolved` },
        );
      }
    });

    /** The running Ollama task container on a node, as that node's own Docker lists it. */
    const ollamaContainer = async (node: FleetNode): Promise<{ id: string; startedAt: string }> => {
      const [c] = await nodeClient(node).listContainers({
        filters: { label: [`com.docker.swarm.service.name=${STACK}_ollama`], status: ['running'] },
      });
      assert.ok(c, `node ${node.index} runs a ${STACK}_ollama container`);
      const info = await nodeClient(node).getContainer(c.Id).inspect();
      return { id: c.Id, startedAt: info.State.StartedAt };
    };
    /** Where Swarm put a one-replica service: http://<its node's address>:<port>. */
    const serviceUrl = async (service: string, port: number): Promise<string> => {
      const [task] = (await nodeClient(manager).listTasks({
        filters: { service: [`${STACK}_${service}`], 'desired-state': ['running'] },
      })) as { NodeID: string }[];
      const node = fleet.nodes.find((n) => n.id === task?.NodeID);
      assert.ok(node, `a ${service} task on a node of the fleet`);
      return `http://${node.addr}:${port}`;
    };
    /** Steps taken (their result lines) since `from` lines of each node's audit log. */
    const stepsSince = async (from: ReadonlyMap<string, number>) => {
      const steps: { node: number; action: string; result: string; incident: string; detail: string }[] = [];
      for (const node of fleet.nodes.filter((n) => n.gpu))
        for (const e of (await auditOf(node)).slice(from.get(node.id) ?? 0))
          if (e.kind === 'result')
            steps.push({
              node: node.index,
              action: String(e.action),
              result: String(e.result),
              incident: String(e.incident),
              detail: String(e.detail ?? ''),
            });
      return steps;
    };
    /** Each node's audit length now (`read`: its node or its fleet remediator's): what a scenario reads follows it. */
    const auditLengthsOf = async (read: (node: FleetNode) => Promise<AuditRecord[]>, nodes: readonly FleetNode[]) =>
      new Map(await Promise.all(nodes.map(async (n) => [n.id, (await read(n)).length] as const)));
    const auditLengths = () =>
      auditLengthsOf(
        auditOf,
        fleet.nodes.filter((n) => n.gpu),
      );
    /** Every GPU node's exporter diagnoses its target healthy (the keep_warm model resident on its GPU). */
    const allHealthy = async (what: string) =>
      waitFor(
        async () => {
          for (const node of fleet.nodes.filter((n) => n.gpu)) {
            const m = parseExposition((await scrape(node, password)).body);
            if (m.get('sentinel_ollama_condition', { target: 'main', condition: 'healthy' }) !== 1) return false;
          }
          return true;
        },
        { timeoutMs: 120_000, intervalMs: 1000, what },
      );
    /** Waits until `node`'s remediator closed an incident of `alertname` opened after `from`; returns its lines. */
    const closedIncident = async (node: FleetNode, alertname: string, from: number) =>
      waitFor(
        async () => {
          const lines = (await auditOf(node)).slice(from);
          const opened = lines.find(
            (e) => e.kind === 'alert' && e.alert?.alertname === alertname && e.alert.status === 'firing' && e.incident,
          );
          const mine = opened ? lines.filter((e) => e.incident === opened.incident) : [];
          return mine.some((e) => e.kind === 'close') ? mine : false;
        },
        {
          timeoutMs: 240_000,
          intervalMs: 1000,
          what: `node ${node.index}'s remediator to close a ${alertname} incident`,
        },
      );
    const assertHealedHere = (node: FleetNode, lines: readonly AuditRecord[]) => {
      const text = lines.map((e) => e.raw).join('\n');
      const result = lines.find((e) => e.kind === 'result');
      assert.equal(result?.action, 'restart_container', `node ${node.index}: the node-local restart\n${text}`);
      assert.equal(result.result, 'done', text);
      assert.match(String(result.detail), new RegExp(`on this node ${node.id}`), 'proved on its own node');
      assert.equal(lines.find((e) => e.kind === 'verify')?.result, 'healthy', text);
      assert.equal(lines.find((e) => e.kind === 'close')?.result, 'healed', text);
    };

    const ollamaServiceOf = async (api: Docker) =>
      (await api.getService(`${STACK}_ollama`).inspect()) as {
        Spec: { Labels?: Record<string, string>; TaskTemplate: { ForceUpdate?: number } };
      };
    const fleetAuditOf = (node: FleetNode) => readAuditLog(join(dir, node.id, 'fleet-remediator'));
    /**
     * Waits until no fleet remediator has an incident open, so that what a scenario reads in their audits is its own:
     * a step a previous scenario's incident takes late would otherwise land in the next scenario's window.
     */
    const fleetQuiet = async (what: string) =>
      waitFor(
        async () => {
          for (const node of fleet.nodes) {
            const lines = await fleetAuditOf(node);
            const closed = new Set(lines.filter((e) => e.kind === 'close').map((e) => e.incident));
            if (lines.some((e) => e.kind === 'alert' && e.result === 'opened' && !closed.has(e.incident))) return false;
          }
          return true;
        },
        { timeoutMs: 300_000, intervalMs: 1000, what },
      );
    /** The records on one line (the gate's decisions name the nodes): the end of a failure message is what CI shows. */
    const fleetSummary = (lines: readonly AuditRecord[]) =>
      lines
        .map((e) =>
          [
            e.ts,
            e.kind,
            e.incident,
            e.alert ? `${e.alert.alertname} ${e.alert.status} since ${e.alert.startsAt}` : '',
            e.result,
            String(e.detail ?? '').slice(0, 160),
          ]
            .filter(Boolean)
            .join(' '),
        )
        .join(' | ');

    it("a node's runner kills never signal another node's runner, though every node's processes share this kernel", async () => {
      // One kernel here: the host /proc shows both GPU nodes' runners, as no real node's /proc would. The kill steps
      // run as node a's remediator would with the host's PID view (the test process has it; the shipped fleet
      // remediator has none, so it refuses kills outright): node a's Docker, node a's identity, and a GPU that lists
      // node b's runner as well (what a shared /proc could make a careless remediator believe).
      const [a, b] = fleet.nodes.filter((n) => n.gpu) as [FleetNode, FleetNode];
      const runnersOf = async (node: FleetNode) =>
        waitFor(
          async () => {
            const procs = readGpuState(join(dir, node.id, 'gpu.state')).procs;
            return procs.length > 0 ? procs : false;
          },
          { timeoutMs: 60_000, intervalMs: 500, what: `node ${node.index}'s runner on its GPU` },
        );
      const [ownRunner] = await runnersOf(a);
      const [otherRunner] = await runnersOf(b);
      const identity = async (pid: number) => (await readProcessIdentity('/proc', pid))?.startTime ?? null;
      const before = { own: await identity(ownRunner!.pid), other: await identity(otherRunner!.pid) };
      assert.ok(before.own !== null && before.other !== null, 'both runners are visible in this /proc');
      const history = await TargetHistory.open(join(dir, 'kill-history'), [TARGET], { now: Date.now, warn: () => {} });
      const docker = nodeClient(a);
      const asApp = (p: { pid: number; usedMiB: number; name: string }) => ({
        gpuUuid: gpuUuid(a),
        pid: p.pid,
        processName: p.name,
        usedMemoryBytes: p.usedMiB * 1024 * 1024,
      });
      // Signals are recorded, never sent: should a bug pick node b's runner, the test fails without killing it.
      const signalled: number[] = [];
      const deps = actionTestDeps(docker, {
        history,
        kill: (pid: number) => void signalled.push(pid),
        ownNode: async () => ownNodeFromInfo((await docker.info()) as Parameters<typeof ownNodeFromInfo>[0]),
        queryComputeApps: async () => [asApp(ownRunner!), asApp(otherRunner!)],
      });
      for (const action of ['kill_runner', 'kill_orphans'] as const) {
        const r = await runAction(
          {
            action,
            target: TARGET,
            dryRun: action === 'kill_runner', // node a's own runner is fair game for kill_runner: not killed here
            signal: AbortSignal.timeout(60_000),
            incidentId: `inc-fleet-kill-${action}`,
          },
          deps,
        );
        const text = `${action}: ${r.outcome}: ${r.detail}\n${r.calls.join('\n')}`;
        assert.ok(!r.calls.some((c) => c.includes(`kill -TERM PID ${otherRunner!.pid} `)), text);
        if (action === 'kill_runner') assert.match(r.detail, new RegExp(`\\b${ownRunner!.pid}\\b`), text);
      }
      assert.deepEqual(signalled, [], 'no signal sent (kill_runner was a dry run, kill_orphans found no orphan)');
      assert.equal(
        await identity(otherRunner!.pid),
        before.other,
        "node b's runner: the same process, never signalled",
      );
      assert.equal(await identity(ownRunner!.pid), before.own, "node a's runner: untouched (dry-run, not an orphan)");
    });

    it("Prometheus finds every GPU node's exporter and remediator through the manager's Docker, and the Alertmanager", async () => {
      const prometheus = await serviceUrl('prometheus', 9090);
      const gpu = fleet.nodes.filter((n) => n.gpu);
      const targets = await waitFor(
        async () => {
          const body = (await (await fetch(`${prometheus}/api/v1/targets?state=active`)).json()) as {
            data: { activeTargets: { labels: Record<string, string>; scrapeUrl: string; health: string }[] };
          };
          const t = body.data.activeTargets;
          return t.length === 2 * gpu.length && t.every((x) => x.health === 'up') ? t : false;
        },
        { timeoutMs: 120_000, intervalMs: 1000, what: 'Prometheus to scrape both jobs on every GPU node, all up' },
      );
      for (const node of gpu)
        for (const [job, port] of [
          ['ollama-sentinel', EXPORTER_PORT],
          ['ollama-sentinel-remediator', REMEDIATOR_PORT],
        ] as const) {
          const t = targets.find((x) => x.labels.job === job && x.labels.node === node.id);
          assert.ok(t, `${job} on node ${node.index} (node=${node.id}): ${JSON.stringify(targets)}`);
          assert.equal(new URL(t.scrapeUrl).host, `${node.addr}:${port}`, 'scraped on its node address');
        }
      // Every ready manager is asked; the one that runs Alertmanager is among them.
      const alertmanager = await serviceUrl('alertmanager', 9093);
      const ams = await waitFor(
        async () => {
          const body = (await (await fetch(`${prometheus}/api/v1/alertmanagers`)).json()) as {
            data: { activeAlertmanagers: { url: string }[] };
          };
          const urls = body.data.activeAlertmanagers.map((a) => new URL(a.url).origin);
          return urls.includes(alertmanager) ? urls : false;
        },
        { timeoutMs: 60_000, intervalMs: 1000, what: `Prometheus to send alerts to ${alertmanager}` },
      );
      assert.deepEqual(ams.sort(), fleet.nodes.map((n) => `http://${n.addr}:9093`).sort(), 'all three managers');
    });

    it('a silent CPU fallback on one GPU node is healed on that node only: one step in all audit logs', async () => {
      const [a, b] = fleet.nodes.filter((n) => n.gpu);
      assert.ok(a && b, 'two GPU nodes');
      await allHealthy('both GPU nodes healthy before the fault');
      const from = await auditLengths();
      const [beforeA, beforeB] = [await ollamaContainer(a), await ollamaContainer(b)];
      await injectCpuFallback(`http://${a.addr}:11434`, modelRequestFields(MODEL));

      const prometheus = await serviceUrl('prometheus', 9090);
      const firing = await waitFor(
        async () => {
          const alerts = await readPrometheusAlerts(prometheus, CPU_FALLBACK);
          return alerts.find((x) => x.state === 'firing' && x.labels.node === a.id) ?? false;
        },
        { timeoutMs: 120_000, intervalMs: 1000, what: `${CPU_FALLBACK}{node="${a.id}"} firing` },
      );
      assert.equal(firing.labels.ollama, 'main');
      assertHealedHere(a, await closedIncident(a, CPU_FALLBACK, from.get(a.id)!));

      const afterA = await ollamaContainer(a);
      assert.notEqual(afterA.id, beforeA.id, "node a's Ollama task runs in a new container (Swarm replaced it)");
      assert.deepEqual(await ollamaContainer(b), beforeB, "node b's Ollama container kept its id and StartedAt");
      await allHealthy('both GPU nodes healthy after the heal');
      const steps = await stepsSince(from);
      assert.deepEqual(
        steps.map((x) => `${x.node}:${x.action}:${x.result}`),
        [`${a.index}:restart_container:done`],
        `exactly one step, on node ${a.index}: ${JSON.stringify(steps)}`,
      );
      assert.ok(
        !(await readPrometheusAlerts(prometheus, CPU_FALLBACK)).some((x) => x.labels.node === b.id),
        'no alert ever named node b',
      );
    });

    it('the same fault on both GPU nodes at once is healed on each, once', async () => {
      const gpu = fleet.nodes.filter((n) => n.gpu);
      await allHealthy('both GPU nodes healthy before the fault');
      const from = await auditLengths();
      const before = await Promise.all(gpu.map(ollamaContainer));
      await Promise.all(gpu.map((n) => injectCpuFallback(`http://${n.addr}:11434`, modelRequestFields(MODEL))));
      for (const [i, node] of gpu.entries()) {
        assertHealedHere(node, await closedIncident(node, CPU_FALLBACK, from.get(node.id)!));
        assert.notEqual((await ollamaContainer(node)).id, before[i]!.id, `node ${node.index}: a new container`);
      }
      await allHealthy('both GPU nodes healthy after the heal');
      const steps = await stepsSince(from);
      assert.deepEqual(
        steps.map((x) => `${x.node}:${x.action}:${x.result}`).sort(),
        gpu.map((n) => `${n.index}:restart_container:done`).sort(),
        `one step per node, each on its own node: ${JSON.stringify(steps)}`,
      );
    });

    /** The nodes as a manager that is up lists them. */
    type SwarmNode = {
      ID: string;
      Status: { State: string };
      ManagerStatus?: { Leader?: boolean; Reachability?: string };
    };
    const nodesVia = async (via: FleetNode) => (await nodeClient(via).listNodes()) as SwarmNode[];
    const leaderVia = async (via: FleetNode) => (await nodesVia(via)).find((n) => n.ManagerStatus?.Leader)?.ID;
    /** test/setup/fleet-swarm.sh (node-down, node-up) on this fleet. */
    const fleetSwarm = (...args: string[]) =>
      execa('bash', [join(REPO, 'test', 'setup', 'fleet-swarm.sh'), ...args], {
        env: { ...process.env, SENTINEL_FLEET_DIR: fleet.dir },
        timeout: 120_000,
      });
    /** Node `n` is back as a ready, reachable manager (after node-up), as `via` sees it. */
    const backAsManager = (via: FleetNode, n: FleetNode) =>
      waitFor(
        async () => {
          const seen = (await nodesVia(via).catch(() => [])).find((x) => x.ID === n.id);
          return seen?.Status.State === 'ready' && seen.ManagerStatus?.Reachability === 'reachable';
        },
        { timeoutMs: 120_000, intervalMs: 1000, what: `node ${n.index} back as a reachable manager` },
      );
    /** Node `n` is seen down by the manager `via`. */
    const seenDown = (via: FleetNode, n: FleetNode) =>
      waitFor(async () => (await nodesVia(via)).find((x) => x.ID === n.id)?.Status.State === 'down', {
        timeoutMs: 120_000,
        intervalMs: 1000,
        what: `node ${n.index} seen down`,
      });
    /**
     * A load stalled on both GPU nodes, heard by the fleet remediators of `managers` (the managers that are up):
     * exactly one of them force-updates the service, the others find its marker, and each closes its incident once
     * both nodes' alerts resolved. `api` is a manager that is up.
     */
    const stallBothExpectOneForceUpdate = async (managers: readonly FleetNode[], api: Docker) => {
      const gpu = fleet.nodes.filter((n) => n.gpu);
      await allHealthy('both GPU nodes healthy before the fault');
      const service = () => ollamaServiceOf(api);
      const forceBefore = (await service()).Spec.TaskTemplate.ForceUpdate ?? 0;
      await fleetQuiet('no fleet incident open before the fault');
      const from = await auditLengths();
      const fleetFrom = await auditLengthsOf(fleetAuditOf, managers);
      // Each node's next load of the model makes no progress: armed, then the model unloaded as if keep_alive ran out;
      // the exporter's keep_warm probe loads it again and that load stalls.
      for (const node of gpu) {
        const sim = `http://${node.addr}:11434/_sim`;
        const post = (path: string, body: unknown) =>
          fetch(`${sim}/${path}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body),
            signal: AbortSignal.timeout(10_000),
          });
        assert.equal((await post('faults', { stallLoad: true })).status, 200);
        await post('expire', { model: MODEL.name });
      }
      // Each manager's fleet remediator ends an incident in which it took (or stood down from) the step. One node's
      // stall seen alone first is an incident that waits and may close unhealed when that alert resolves: never a step.
      const closes = await waitFor(
        async () => {
          const all = [];
          for (const node of managers) {
            const lines = (await fleetAuditOf(node)).slice(fleetFrom.get(node.id) ?? 0);
            const stepped = new Set(lines.filter((e) => e.kind === 'result').map((e) => e.incident));
            const close = lines.find((e) => e.kind === 'close' && stepped.has(e.incident));
            if (!close) return false;
            all.push({ node, lines, close });
          }
          return all;
        },
        { timeoutMs: 300_000, intervalMs: 2000, what: "every manager's fleet remediator to close its healed incident" },
      );
      const text = closes.map((c) => `node ${c.node.index}:\n${c.lines.map((e) => e.raw).join('\n')}`).join('\n');
      for (const c of closes)
        for (const other of c.lines.filter((e) => e.kind === 'close' && e.incident !== c.close.incident))
          assert.equal(other.attempts, 0, `an incident closed without a step took none:\n${text}`);
      const results = closes.flatMap((c) => c.lines.filter((e) => e.kind === 'result'));
      assert.ok(
        results.length > 0 && results.every((r) => r.action === 'force_update_service' && r.result === 'done'),
        text,
      );
      const updaters = results.filter((r) => !String(r.detail).startsWith('already done by another remediator'));
      assert.equal(updaters.length, 1, `exactly one remediator updated the service:\n${text}`);
      for (const c of closes) assert.equal(c.close.result, 'resolved', text);
      const after = await service();
      assert.equal(after.Spec.TaskTemplate.ForceUpdate, forceBefore + 1, 'one force update, fleet-wide');
      assert.match(after.Spec.Labels?.['ollama-sentinel.heal'] ?? '', /^OllamaLoadStalled main /, 'the heal marker');
      // The node remediators took no step: the alert has no node-local cure in fleet-sentinel.yaml.
      assert.deepEqual(await stepsSince(from), [], 'no node-local step');
      await allHealthy('both GPU nodes healthy after the rolling restart');
      return closes;
    };

    it('a load stalled on both GPU nodes gets exactly one force update of the service, fleet-wide', async () => {
      await stallBothExpectOneForceUpdate(fleet.nodes, nodeClient(manager));
    });

    it('ollama-init ran once on each GPU node, as a global job, and completed', async () => {
      const tasks = (await nodeClient(manager).listTasks({
        filters: { service: [`${STACK}_ollama-init`] },
      })) as { NodeID: string; Status: { State: string } }[];
      const gpu = fleet.nodes.filter((n) => n.gpu).map((n) => n.id);
      for (const id of gpu)
        assert.ok(
          tasks.some((t) => t.NodeID === id && t.Status.State === 'complete'),
          `a completed init task on ${id}: ${JSON.stringify(tasks.map((t) => [t.NodeID, t.Status.State]))}`,
        );
      assert.ok(
        tasks.every((t) => gpu.includes(t.NodeID)),
        'on GPU nodes only',
      );
    });

    it('the leader manager going away moves the service-level duties to the other managers: a fleet-wide fault is still healed once', async () => {
      const others = fleet.nodes.filter((n) => n !== manager);
      // The leader to take away is node 1, the manager without GPUs, so that both GPU nodes stay for the fault. It made
      // the Swarm and leads unless an election moved it (a reused fleet): then that leader goes away and comes back
      // until node 1 leads (each time the others elect one of themselves; demoting managers instead broke the Raft
      // membership of a promoted node here).
      for (let round = 0; (await leaderVia(manager)) !== manager.id; round++) {
        assert.ok(round < 6, 'node 1 never became the leader: restart the fleet (fleet-swarm.sh stop, then start)');
        const leaderId = await leaderVia(manager);
        const leader = fleet.nodes.find((n) => n.id === leaderId)!;
        const other = fleet.nodes.find((n) => n !== leader && n !== manager)!;
        await fleetSwarm('node-down', String(leader.index));
        await waitFor(async () => ((await leaderVia(other).catch(() => undefined)) ?? leader.id) !== leader.id, {
          timeoutMs: 120_000,
          intervalMs: 1000,
          what: `a leader other than node ${leader.index}`,
        });
        await fleetSwarm('node-up', String(leader.index));
        await backAsManager(other, leader);
      }
      await waitFor(
        async () => (await nodesVia(manager)).filter((n) => n.ManagerStatus?.Reachability === 'reachable').length === 3,
        { timeoutMs: 180_000, intervalMs: 1000, what: 'three reachable managers, node 1 leading' },
      );
      await allHealthy('both GPU nodes healthy, node 1 leading');
      const survivor = others[0]!;
      const placed = async (service: string) =>
        (
          (await nodeClient(survivor).listTasks({
            filters: { service: [`${STACK}_${service}`], 'desired-state': ['running'] },
          })) as { NodeID: string; Status: { State: string } }[]
        ).filter((t) => t.Status.State === 'running');
      try {
        await fleetSwarm('node-down', String(manager.index));
        // The other two keep the Raft quorum, elect a leader among them and see node 1 down.
        await waitFor(
          async () => {
            const nodes = await nodesVia(survivor);
            const leader = nodes.find((n) => n.ManagerStatus?.Leader)?.ID;
            return (
              leader !== undefined &&
              leader !== manager.id &&
              nodes.find((n) => n.ID === manager.id)?.Status.State === 'down'
            );
          },
          { timeoutMs: 120_000, intervalMs: 1000, what: 'a new leader, and node 1 down' },
        );
        // Prometheus and Alertmanager (one replica each, on any manager) run on a manager that is up: Swarm moved them.
        await waitFor(
          async () => {
            for (const service of ['prometheus', 'alertmanager']) {
              const tasks = await placed(service);
              if (tasks.length !== 1 || tasks[0]!.NodeID === manager.id) return false;
            }
            return true;
          },
          { timeoutMs: 180_000, intervalMs: 2000, what: 'Prometheus and Alertmanager running on a manager that is up' },
        );
        // Alertmanager still posts to node 1's fleet remediator too (retried, failing); the two that are up heal it.
        await stallBothExpectOneForceUpdate(others, nodeClient(survivor));
      } finally {
        await fleetSwarm('node-up', String(manager.index));
        await backAsManager(survivor, manager);
      }
    });

    it('a GPU node that goes away mid-incident leaves no incident stuck and no step taken anywhere else', async () => {
      const [stays, leaves] = fleet.nodes.filter((n) => n.gpu) as [FleetNode, FleetNode];
      await allHealthy('both GPU nodes healthy before the fault');
      await fleetQuiet('no fleet incident open before the fault');
      const from = await auditLengths();
      const fleetFrom = await auditLengthsOf(fleetAuditOf, fleet.nodes);
      const forceBefore = (await ollamaServiceOf(nodeClient(manager))).Spec.TaskTemplate.ForceUpdate ?? 0;
      await injectCpuFallback(`http://${leaves.addr}:11434`, modelRequestFields(MODEL));
      // Its remediator has the incident (and may be restarting the task) when the node goes away.
      await waitFor(
        async () =>
          (await auditOf(leaves))
            .slice(from.get(leaves.id) ?? 0)
            .some((e) => e.kind === 'alert' && e.alert?.alertname === CPU_FALLBACK && e.result === 'opened'),
        { timeoutMs: 180_000, intervalMs: 200, what: `node ${leaves.index}'s remediator to open the incident` },
      );
      try {
        await fleetSwarm('node-down', String(leaves.index));
        await seenDown(manager, leaves);
      } finally {
        await fleetSwarm('node-up', String(leaves.index));
        await backAsManager(manager, leaves);
      }
      // Back, its remediator resumes the incident from its journal and ends it (here the new task has the GPU again).
      const lines = await closedIncident(leaves, CPU_FALLBACK, from.get(leaves.id)!);
      await allHealthy('both GPU nodes healthy once the node is back');
      const text = lines.map((e) => e.raw).join('\n');
      const steps = await stepsSince(from);
      // At most the one restart it may have begun before it went away, never repeated; nothing on the other node.
      assert.ok(
        steps.length <= 1 && steps.every((x) => x.node === leaves.index && x.action === 'restart_container'),
        `${JSON.stringify(steps)}\n${text}`,
      );
      assert.ok(!steps.some((x) => x.node === stays.index), 'no step on the node that stayed');
      // One intent at most: a step cut by the node going away is recovered as "cannot tell", never started again.
      assert.ok(lines.filter((e) => e.kind === 'intent').length <= 1, text);
      for (const node of fleet.nodes) {
        const since = (await fleetAuditOf(node)).slice(fleetFrom.get(node.id) ?? 0);
        // The whole record since the fault in the message, and last (CI shows a message's end) one line of it.
        assert.ok(
          !since.some((e) => e.kind === 'result'),
          `no fleet-level step (node ${node.index}'s fleet remediator):\n${since.map((e) => e.raw).join('\n')}\nin short: ${fleetSummary(since)}`,
        );
      }
      const forceAfter = (await ollamaServiceOf(nodeClient(manager))).Spec.TaskTemplate.ForceUpdate ?? 0;
      assert.equal(forceAfter, forceBefore, 'the Ollama service was not force-updated');
    });
  },
);
