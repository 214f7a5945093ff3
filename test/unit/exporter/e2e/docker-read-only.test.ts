// Least privilege, proven on the wire: the exporter as a real process, pointed at a fake Docker Engine on a unix
// socket, goes through several rounds of every collector that uses Docker (GPU process attribution, container
// resources, runner processes, node identity) and sends nothing but GET. A read-only bind of docker.sock does not
// make the API read-only; the exporter's client does (shared/docker/create-read-only-docker-client.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { defaultH100State, writeGpuState } from '../../../sim/gpu-state.js';
import { FakeProcRoot } from '../../../helpers/fake-proc-root.js';
import { hexId } from '../../../helpers/fake-docker-api.js';
import { startFakeDockerEngine, type EngineReply, type EngineRequest } from '../../../helpers/fake-docker-engine.js';
import { parseExposition, type Exposition } from '../../../helpers/parse-exposition.js';
import { waitFor } from '../../../helpers/wait-for.js';
import { FAKE_NVIDIA_SMI, startRealExporter } from '../../../helpers/start-real-exporter.js';

const OLLAMA = '/usr/bin/ollama';
const A = hexId('ai-ollama-1');
const LABELS = {
  'com.docker.compose.project': 'ai',
  'com.docker.compose.service': 'ollama',
  'com.docker.compose.oneoff': 'False',
};
const NODE_ID = 'qgu4vxckxlq4f2n9k5ul7mhoe';

/** A Docker Engine with one Compose Ollama container, answering reads the way a 27.x daemon does (fields trimmed). */
function engine(req: EngineRequest): EngineReply {
  if (req.method !== 'GET') return { status: 403, json: { message: `${req.method} refused by the read-only fake` } };
  if (req.path === '/containers/json') {
    const wanted = JSON.parse(req.query.get('filters') ?? '{}') as { label?: string[] };
    const matches = (wanted.label ?? []).every((kv) => {
      const [k, v] = kv.split('=', 2) as [string, string];
      return LABELS[k as keyof typeof LABELS] === v;
    });
    return { status: 200, json: matches ? [{ Id: A, Names: ['/ai-ollama-1'], Labels: LABELS, State: 'running' }] : [] };
  }
  if (req.path === `/containers/${A}/json`)
    return {
      status: 200,
      json: {
        Id: A,
        Name: '/ai-ollama-1',
        Image: `sha256:${'e'.repeat(64)}`,
        Config: { Image: 'ollama/ollama:0.12.3', Labels: LABELS },
        State: { Running: true, Pid: 90, StartedAt: '2026-12-07T05:00:00.000000000Z', Status: 'running' },
      },
    };
  if (req.path === `/containers/${A}/stats`)
    return {
      status: 200,
      json: {
        read: '2026-12-07T06:00:00.000000000Z',
        cpu_stats: { cpu_usage: { total_usage: 12_500_000_000 }, online_cpus: 16 },
        memory_stats: { usage: 3_000_000_000, limit: 67_000_000_000, stats: { inactive_file: 1_000_000_000 } },
        blkio_stats: { io_service_bytes_recursive: [{ major: 259, minor: 0, op: 'read', value: 4096 }] },
      },
    };
  if (req.path === '/info')
    return {
      status: 200,
      json: { Name: 'gpu-worker-3', Swarm: { NodeID: NODE_ID, NodeAddr: '10.0.0.13', LocalNodeState: 'active' } },
    };
  return { status: 404, json: { message: `No such container: ${req.path}` } };
}

test('the exporter sends only GET to Docker through rounds of attribution, container stats and node identity', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-readonly-docker-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const docker = await startFakeDockerEngine(engine);
  t.after(() => docker.close());
  // The Ollama container's processes on the host: tini, the server, and a runner holding GPU memory.
  const proc = await FakeProcRoot.create();
  t.after(() => proc.cleanup());
  await proc.add({ pid: 90, ppid: 1, argv: ['/sbin/tini', '--', OLLAMA, 'serve'], exe: '/sbin/tini', containerId: A });
  await proc.add({ pid: 100, ppid: 90, argv: [OLLAMA, 'serve'], exe: OLLAMA, containerId: A });
  await proc.add({
    pid: 101,
    ppid: 100,
    argv: [OLLAMA, 'runner', '--model', '/root/.ollama/models/blobs/sha256-1', '--port', '40001'],
    exe: OLLAMA,
    containerId: A,
  });
  const stateFile = join(dir, 'gpu.state');
  const gpu = defaultH100State();
  gpu.procs.push({ gpuUuid: gpu.gpus[0]!.uuid, pid: 101, usedMiB: 4096, name: OLLAMA });
  writeGpuState(stateFile, gpu);

  // No Ollama answers (port 9): its collector fails, the Docker-using ones run regardless.
  const { proc: exporter, url } = await startRealExporter(
    dir,
    `ollama:
  - name: main
    url: http://127.0.0.1:9
    container:
      compose: {project: ai, service: ollama}
gpu:
  nvidia_smi: ${FAKE_NVIDIA_SMI}
  interval: 1s
  proc_root: ${proc.root}
docker:
  host: unix://${docker.socketPath}
  timeout: 2s
exporter:
  listen_address: 127.0.0.1:0
  ollama_interval: 1s
  containers_interval: 1s
`,
    stateFile,
  );
  t.after(() => exporter.stop());

  const runs = (m: Exposition, collector: string) => m.get('sentinel_collector_runs_total', { collector }) ?? 0;
  const m = await waitFor(
    async () => {
      const scrape = parseExposition(await (await fetch(`${url}/metrics`)).text());
      const rounds = ['gpu_processes', 'containers', 'runners'].every((c) => runs(scrape, c) >= 3);
      return rounds && scrape.get('sentinel_node_info', { node_id: NODE_ID }) === 1 ? scrape : false;
    },
    { timeoutMs: 30_000, intervalMs: 250, what: `three rounds of the Docker collectors\n${exporter.output()}` },
  );

  // What the reads were for: the runner's VRAM attributed to its container, the container's stats, the node.
  assert.equal(
    m.get('sentinel_gpu_container_memory_used_bytes', { container: 'ai-ollama-1', uuid: gpu.gpus[0]!.uuid }),
    4096 * 1024 * 1024,
  );
  assert.equal(m.get('sentinel_ollama_container_running', { target: 'main' }), 1);
  assert.equal(
    m.get('sentinel_ollama_container_cpu_seconds_total', { target: 'main', container: 'ai-ollama-1' }),
    12.5,
  );
  assert.deepEqual(m.all('sentinel_node_info')[0]?.labels, {
    hostname: hostname(),
    node_id: NODE_ID,
    node_name: 'gpu-worker-3',
    swarm_state: 'active',
  });
  for (const c of ['gpu_processes', 'containers', 'runners', 'node'])
    assert.equal(m.get('sentinel_collector_success', { collector: c }), 1, `collector ${c}`);

  const seen = docker.requests.map((r) => `${r.method} ${r.path}`);
  const count = (line: string) => seen.filter((s) => s === line).length;
  assert.ok(count('GET /containers/json') >= 6, `lists of containers and runners, rounds: ${seen.join(', ')}`);
  assert.ok(count(`GET /containers/${A}/json`) >= 3, 'inspects');
  assert.ok(count(`GET /containers/${A}/stats`) >= 3, 'stats');
  assert.ok(count('GET /info') >= 1, 'info');
  assert.deepEqual(
    docker.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path}`),
    [],
    'requests other than GET',
  );
});

test("the exporter's code never loads dockerode (about 26 MiB of RSS it does not need)", async () => {
  const dist = fileURLToPath(new URL('../../../../', import.meta.url));
  // What `ollama-sentinel exporter` loads: the CLI with every command's definition, then the exporter's wiring.
  const script = `
    import { createRequire } from 'node:module';
    const { loadCommands } = await import(${JSON.stringify(join(dist, 'shared/cli/main.js'))});
    await loadCommands();
    await import(${JSON.stringify(join(dist, 'shared/cli/run-cli.js'))});
    await import(${JSON.stringify(join(dist, 'exporter/create-exporter.js'))});
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    console.log(JSON.stringify({ loaded: loaded.length, docker: loaded.filter((f) => /node_modules\\/(dockerode|docker-modem)\\//.test(f)) }));
  `;
  const { stdout } = await execa(process.execPath, ['--input-type=module', '-e', script]);
  const result = JSON.parse(stdout) as { loaded: number; docker: string[] };
  assert.ok(result.loaded > 10, `only ${result.loaded} CommonJS modules seen: the check is broken`);
  assert.deepEqual(result.docker, []);
});
