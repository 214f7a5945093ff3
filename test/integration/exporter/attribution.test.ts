/**
 * PID -> cgroup -> container -> Ollama target, for real: a container on the test environment's private Docker
 * Engine runs processes shaped like Ollama 0.5.8-0.24 (`ollama serve` as PID 1 spawning `ollama runner --model ...`
 * and a discovery `ollama runner` without --model; the executable is node hard-linked as `ollama`), and this test
 * traces their host PIDs through the real /proc and the real Docker API. A runner started on the host proves the
 * no-container case. The GPU list itself is the only fake (no GPU here): it names those real host PIDs.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import type Docker from 'dockerode';
import { createGpuProcessesCollector } from '../../../exporter/collectors/gpu-processes-collector.js';
import { createContainersCollector } from '../../../exporter/collectors/containers-collector.js';
import type { GpuConfig, OllamaTargetConfig } from '../../../shared/config/types.js';
import { createDockerClient } from '../../../shared/docker/create-docker-client.js';
import { resolveTargetContainers } from '../../../shared/docker/resolve-target-containers.js';
import { classifyProcessRole } from '../../../shared/proc/classify-process-role.js';
import { parseProcStat } from '../../../shared/proc/parse-proc-stat.js';
import { readProcessIdentity } from '../../../shared/proc/read-process-identity.js';
import { prepareOllamaExecutableDir } from '../../sim/prepare-ollama-executable-dir.js';
import { findFreePort } from '../../helpers/find-free-port.js';
import { readTestEnv, type TestEnv } from '../../helpers/read-test-env.js';
import { testDockerClient } from '../../helpers/test-docker-client.js';
import { testEnvSkip } from '../../helpers/test-env-skip.js';
import { waitFor } from '../../helpers/wait-for.js';
import { RecordingSink } from '../../helpers/recording-sink.js';

const GPU = 'GPU-f88d2996-314d-4abe-0c94-acc6aa417694';
const MODEL = '/root/.ollama/models/blobs/sha256-6a0746a1ec1aef3e7ec53868f220ff6e389f6f8ef87a01d77c96807de94ca2aa';
const DIR = '/tmp/ollama-bin'; // inside the container

/**
 * `ollama serve` inside the container: spawns a model runner and a discovery runner with Ollama's argv shapes,
 * then waits; SIGTERM ends all three (a Node PID 1 ignores SIGTERM without a handler).
 */
const SERVE_SCRIPT = `'use strict';
const { spawn } = require('node:child_process');
const exe = __dirname + '/ollama';
const opts = { cwd: __dirname, stdio: 'inherit' };
const kids = [
  spawn(exe, ['runner', '--model', process.env.MODEL, '--port', process.env.RUNNER_PORT], opts),
  spawn(exe, ['runner', '--port', process.env.DISCOVERY_PORT], opts),
];
process.on('SIGTERM', () => { for (const k of kids) k.kill('SIGTERM'); process.exit(0); });
setInterval(() => {}, 1 << 30);
`;

/** Prepares the ollama folder inside the container with the simulator's helper, then execs `ollama serve`. */
function entrypoint(): string {
  const prepare = [
    `import('/app/dist/test/sim/prepare-ollama-executable-dir.js')`,
    `.then((m) => { m.prepareOllamaExecutableDir(${JSON.stringify(DIR)});`,
    `require('node:fs').writeFileSync(${JSON.stringify(`${DIR}/serve`)}, ${JSON.stringify(SERVE_SCRIPT)}); })`,
  ].join('');
  return `node -e ${shellQuote(prepare)} && cd ${DIR} && exec ${DIR}/ollama serve`;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Whether something accepts a TCP connection on 127.0.0.1:`port`. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/** Host PIDs whose parent is `ppid`, from the real /proc. */
async function childrenOf(ppid: number): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (parseProcStat(await readFile(`/proc/${name}/stat`, 'utf8')).ppid === ppid) out.push(Number(name));
    } catch {
      // exited while we looked
    }
  }
  return out;
}

describe('GPU process attribution against the real Docker Engine', { skip: testEnvSkip() }, () => {
  let env: TestEnv;
  let docker: Docker;
  const tag = `attr${process.pid}`;
  const name = `sentinel-${tag}-ollama`;
  const labels = {
    'com.docker.compose.project': tag,
    'com.docker.compose.service': 'ollama',
    'com.docker.compose.oneoff': 'False',
  };
  let container: { id: string; serverPid: number; runnerPid: number; discoveryPid: number };
  let hostDir: string;
  let hostRunner: ChildProcess | undefined;

  before(async () => {
    env = readTestEnv();
    docker = testDockerClient(env);
    const [runnerPort, discoveryPort] = [await findFreePort(), await findFreePort()];
    const created = await docker.createContainer({
      name,
      Image: env.simImage,
      Entrypoint: ['/bin/sh', '-c', entrypoint()],
      Cmd: [],
      Labels: labels,
      Env: [`MODEL=${MODEL}`, `RUNNER_PORT=${runnerPort}`, `DISCOVERY_PORT=${discoveryPort}`],
      HostConfig: { NetworkMode: 'host', AutoRemove: false },
    });
    await created.start();
    const serverPid = (await created.inspect()).State.Pid;
    const kids = await waitFor(
      async () => {
        const info = await created.inspect();
        if (!info.State.Running) throw new Error(`container exited (${info.State.ExitCode}): ${await logsOf(created)}`);
        const pids = await childrenOf(serverPid);
        return pids.length === 2 ? pids : undefined;
      },
      { timeoutMs: 30_000, what: "the container's two runners" },
    );
    const argvOf = async (pid: number) => (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    const runnerPid = (await Promise.all(kids.map(async (p) => ((await argvOf(p)).includes('--model') ? p : 0)))).find(
      (p) => p > 0,
    )!;
    container = { id: created.id, serverPid, runnerPid, discoveryPid: kids.find((p) => p !== runnerPid)! };
    // Started, not only spawned: until its script's first line runs, a node process is named "MainThread" by Node 24
    // (test/sim/exec-name-prelude.ts); the runner listens on its port after that line (seen in CI: comm MainThread).
    await waitFor(() => listening(runnerPort), { timeoutMs: 30_000, what: `the runner listening on ${runnerPort}` });

    // A runner on the host, no container: its parent is this test process.
    hostDir = join(env.tmpDir, `${tag}-host`);
    await mkdir(hostDir, { recursive: true });
    const { executable } = prepareOllamaExecutableDir(hostDir);
    hostRunner = spawn(executable, ['runner', '--model', '/models/host', '--port', String(await findFreePort())], {
      cwd: hostDir,
      stdio: 'ignore',
    });
    await waitFor(async () => (await readProcessIdentity('/proc', hostRunner!.pid!))?.argv.includes('--model'), {
      timeoutMs: 10_000,
      what: 'the host runner',
    });
  });

  after(async () => {
    hostRunner?.kill('SIGTERM');
    await docker
      ?.getContainer(name)
      .remove({ force: true })
      .catch(() => {});
    if (hostDir) await rm(hostDir, { recursive: true, force: true });
  });

  it('readProcessIdentity: the runner host PID -> its container, parent, argv and nested PIDs', async () => {
    const id = await readProcessIdentity('/proc', container.runnerPid);
    assert.ok(id, 'runner visible in the host /proc');
    assert.equal(id.containerId, container.id, 'cgroup names the container (full id)');
    assert.equal(id.ppid, container.serverPid);
    assert.equal(id.comm, 'ollama');
    assert.equal(id.exe, `${DIR}/ollama`, 'exe as the container sees its own file');
    assert.deepEqual(id.argv.slice(1), ['runner', '--model', MODEL, '--port', id.argv[5]]);
    assert.equal(id.nsPids.length, 2, 'host PID and container PID');
    assert.equal(id.nsPids[0], container.runnerPid);
    assert.equal(classifyProcessRole(id.argv, id.exe), 'ollama_runner');

    const server = await readProcessIdentity('/proc', container.serverPid);
    assert.equal(server?.nsPids.at(-1), 1, 'the server is PID 1 in the container');
    assert.equal(classifyProcessRole(server!.argv, server!.exe), 'ollama_server');
    const discovery = await readProcessIdentity('/proc', container.discoveryPid);
    assert.equal(classifyProcessRole(discovery!.argv, discovery!.exe), 'ollama_discovery');
  });

  it('readProcessIdentity: a host process has no container', async () => {
    const id = await readProcessIdentity('/proc', hostRunner!.pid!);
    assert.ok(id);
    assert.equal(id.containerId, null);
    assert.equal(id.nsPids.length, 1);
    assert.equal(classifyProcessRole(id.argv, id.exe), 'ollama_runner');
  });

  it('resolveTargetContainers finds the container by compose labels and by name through createDockerClient', async () => {
    const client = createDockerClient({ host: env.dockerHost, timeout_ms: 10_000 });
    const byCompose = await resolveTargetContainers(client, { kind: 'compose', project: tag, service: 'ollama' });
    assert.deepEqual(
      byCompose.map((c) => [c.id, c.name, c.pid]),
      [[container.id, name, container.serverPid]],
    );
    assert.ok(byCompose[0]!.startedAt! > Date.now() / 1000 - 600);
    const byName = await resolveTargetContainers(client, { kind: 'container', name });
    assert.deepEqual(
      byName.map((c) => c.id),
      [container.id],
    );
    assert.deepEqual(await resolveTargetContainers(client, { kind: 'container', name: name.slice(0, -1) }), []);
  });

  it('gpu_processes: VRAM of the container runner goes to its target; the host runner to no target', async () => {
    const targets: OllamaTargetConfig[] = [
      {
        name: 'main',
        url: 'http://127.0.0.1:11434',
        headers: {},
        container: { kind: 'compose', project: tag, service: 'ollama' },
      },
    ];
    const cfg: GpuConfig = {
      nvidia_smi: 'nvidia-smi',
      interval_ms: 15000,
      timeout_ms: 5000,
      processes: true,
      max_processes_per_gpu: 10,
      proc_root: '/proc',
    };
    const GiB = 1024 ** 3;
    const c = createGpuProcessesCollector(cfg, {
      // What nvidia-smi prints on the host for these processes: host PIDs, the executable path.
      queryComputeApps: async () => [
        { gpuUuid: GPU, pid: container.runnerPid, processName: `${DIR}/ollama`, usedMemoryBytes: 13 * GiB },
        { gpuUuid: GPU, pid: container.discoveryPid, processName: `${DIR}/ollama`, usedMemoryBytes: 256 * 1024 ** 2 },
        { gpuUuid: GPU, pid: hostRunner!.pid!, processName: join(hostDir, 'ollama'), usedMemoryBytes: 2 * GiB },
      ],
      docker: createDockerClient({ host: env.dockerHost, timeout_ms: 10_000 }),
      targets,
      log: pino({ level: 'silent' }),
    });
    const snapshot = await c.collect({ signal: AbortSignal.timeout(c.timeoutMs), now: Date.now });
    const main = snapshot.targets.find((t) => t.target === 'main')!;
    assert.equal(main.memoryBytes, 13 * GiB + 256 * 1024 ** 2);
    assert.deepEqual(
      main.runners.map((r) => r.pid),
      [container.runnerPid],
    );
    assert.deepEqual(main.orphanRunners, [], 'served by its own ollama serve');
    const host = snapshot.processes.find((p) => p.pid === hostRunner!.pid)!;
    assert.deepEqual([host.attribution, host.target, host.role], ['host', null, 'ollama_runner']);

    const sink = new RecordingSink();
    c.render(snapshot, sink);
    assert.equal(
      sink.value('sentinel_gpu_container_memory_used_bytes', { uuid: GPU, container: name, attribution: 'container' }),
      13 * GiB + 256 * 1024 ** 2,
    );
    assert.equal(
      sink.value('sentinel_gpu_container_memory_used_bytes', { uuid: GPU, container: '', attribution: 'host' }),
      2 * GiB,
    );
    assert.equal(sink.value('sentinel_ollama_gpu_processes', { target: 'main', role: 'ollama_runner' }), 1);
    assert.equal(sink.value('sentinel_ollama_gpu_processes', { target: 'main', role: 'ollama_discovery' }), 1);
    assert.equal(
      sink.value('sentinel_gpu_process_memory_used_bytes', {
        pid: String(container.runnerPid),
        container: name,
        role: 'ollama_runner',
      }),
      13 * GiB,
    );
  });

  it('containers: CPU, memory and IO of the target container, from cgroup files or Docker stats', async (t) => {
    const targets: OllamaTargetConfig[] = [
      { name: 'main', url: 'http://127.0.0.1:11434', headers: {}, container: { kind: 'container', name } },
    ];
    const c = createContainersCollector(
      { intervalMs: 15000, timeoutMs: 10_000, procRoot: '/proc' },
      {
        docker: createDockerClient({ host: env.dockerHost, timeout_ms: 10_000 }),
        targets,
        log: pino({ level: 'silent' }),
      },
    );
    const snapshot = await c.collect({ signal: AbortSignal.timeout(c.timeoutMs), now: Date.now });
    const entry = snapshot.targets[0]!.containers[0]!;
    assert.equal(entry.container.id, container.id);
    assert.ok(entry.usage, 'usage read');
    t.diagnostic(`usage source: ${entry.usage.source}`);
    assert.ok(entry.usage.cpuSeconds > 0, 'three node processes used CPU');
    assert.ok(entry.usage.memoryBytes > 10 * 1024 ** 2, 'three node processes hold memory');
    // Both sources must agree on what they measure: compare the direct read with the daemon's.
    const stats = await docker.getContainer(container.id).stats({ stream: false });
    const daemonCpu = stats.cpu_stats.cpu_usage.total_usage / 1e9;
    assert.ok(
      Math.abs(entry.usage.cpuSeconds - daemonCpu) < 1,
      `cpu ${entry.usage.cpuSeconds} (${entry.usage.source}) vs docker ${daemonCpu}`,
    );
    const sink = new RecordingSink();
    c.render(snapshot, sink);
    assert.equal(sink.value('sentinel_ollama_container_running', { target: 'main' }), 1);
    assert.equal(
      sink.value('sentinel_ollama_container_info', { target: 'main', container: name, id: container.id }),
      1,
    );
  });
});

async function logsOf(c: Docker.Container): Promise<string> {
  const buf = await c.logs({ stdout: true, stderr: true, follow: false }).catch(() => Buffer.from(''));
  return buf.toString('utf8').slice(-2000);
}
