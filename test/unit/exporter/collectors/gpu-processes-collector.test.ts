import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import {
  createGpuProcessesCollector,
  type GpuProcessesSnapshot,
} from '../../../../exporter/collectors/gpu-processes-collector.js';
import { CollectError, type Collector } from '../../../../exporter/collector.js';
import { PromSink } from '../../../../exporter/metrics/prom-sink.js';
import type { GpuConfig, OllamaTargetConfig } from '../../../../shared/config/types.js';
import type { GpuComputeApp } from '../../../../shared/attribution/attribute-gpu-processes.js';
import { createInspectContainerById } from '../../../../shared/docker/inspect-container-by-id.js';
import { NvidiaSmiError } from '../../../../shared/gpu/run-nvidia-smi.js';
import { RecordingSink } from '../../../helpers/recording-sink.js';
import { FakeDockerApi, hexId } from '../../../helpers/fake-docker-api.js';
import { FakeProcRoot } from '../../../helpers/fake-proc-root.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const GPU1 = 'GPU-f88d2996-0000-1111-2222-333344445555';
const GPU2 = 'GPU-0a1b2c3d-0000-1111-2222-333344445555';
const GPU3 = 'GPU-99999999-0000-1111-2222-333344445555';
const OLLAMA = '/usr/bin/ollama';
const A = hexId('ollama-a'); // the target's container
const GONE = hexId('removed'); // in a cgroup, unknown to Docker

const log = pino({ level: 'silent' });
const cfg = (over: Partial<GpuConfig> = {}): GpuConfig => ({
  nvidia_smi: 'nvidia-smi',
  interval_ms: 15000,
  timeout_ms: 5000,
  processes: false,
  max_processes_per_gpu: 20,
  proc_root: '/nonexistent',
  ...over,
});
const target = (name: string, container?: OllamaTargetConfig['container']): OllamaTargetConfig => ({
  name,
  url: 'http://127.0.0.1:11434',
  headers: {},
  ...(container ? { container } : {}),
});
const TARGETS = [target('main', { kind: 'compose', project: 'ai', service: 'ollama' }), target('remote')];

async function run(
  c: Collector<GpuProcessesSnapshot>,
): Promise<{ snapshot: GpuProcessesSnapshot; sink: RecordingSink }> {
  const snapshot = await c.collect({ signal: new AbortController().signal, now: Date.now });
  const sink = new RecordingSink();
  c.render(snapshot, sink);
  // The real sink refuses mixed label names per family: render into it too.
  c.render(snapshot, new PromSink());
  return { snapshot, sink };
}

/** An Ollama compose container (server 100 + runners), a host process, an unknown container, an exited PID. */
async function scene(t: { after: (fn: () => Promise<void>) => void }) {
  const proc = await FakeProcRoot.create();
  t.after(() => proc.cleanup());
  await proc.add({
    pid: 90,
    ppid: 1,
    argv: ['/sbin/tini', '--', OLLAMA, 'serve'],
    exe: '/sbin/tini',
    containerId: A,
    nsPids: [90, 1],
  });
  await proc.add({ pid: 100, ppid: 90, argv: [OLLAMA, 'serve'], exe: OLLAMA, containerId: A, nsPids: [100, 7] });
  await proc.add({
    pid: 101,
    ppid: 100,
    argv: [OLLAMA, 'runner', '--model', '/root/.ollama/models/blobs/sha256-1', '--port', '40001'],
    exe: OLLAMA,
    containerId: A,
  });
  await proc.add({ pid: 102, ppid: 100, argv: [OLLAMA, 'runner', '--port', '40002'], exe: OLLAMA, containerId: A });
  // Its server died (SIGKILL); tini adopted it.
  await proc.add({
    pid: 103,
    ppid: 90,
    argv: [OLLAMA, 'runner', '--model', '/m2', '--port', '40003'],
    exe: OLLAMA,
    containerId: A,
  });
  await proc.add({ pid: 200, ppid: 1, argv: ['python3', 'train.py'], exe: '/usr/bin/python3.12', comm: 'python3' });
  await proc.add({ pid: 300, ppid: 1, argv: ['/app/worker'], exe: '/app/worker', containerId: GONE });
  const docker = new FakeDockerApi([
    {
      id: A,
      name: 'ai-ollama-1',
      pid: 90,
      labels: {
        'com.docker.compose.project': 'ai',
        'com.docker.compose.service': 'ollama',
        'com.docker.compose.oneoff': 'False',
      },
    },
  ]);
  const apps: GpuComputeApp[] = [
    { gpuUuid: GPU1, pid: 101, processName: OLLAMA, usedMemoryBytes: 4 * GiB },
    { gpuUuid: GPU2, pid: 101, processName: OLLAMA, usedMemoryBytes: 2 * GiB },
    { gpuUuid: GPU1, pid: 102, processName: OLLAMA, usedMemoryBytes: 300 * MiB },
    { gpuUuid: GPU1, pid: 103, processName: OLLAMA, usedMemoryBytes: 1 * GiB },
    { gpuUuid: GPU1, pid: 200, processName: '/usr/bin/python3.12', usedMemoryBytes: 5 * GiB },
    { gpuUuid: GPU2, pid: 300, processName: '/app/worker', usedMemoryBytes: 700 * MiB },
    { gpuUuid: GPU2, pid: 400, processName: '/usr/bin/gone', usedMemoryBytes: 100 * MiB },
  ];
  return { proc, docker, apps };
}

test('gpu_processes: traces PIDs to containers, roles and targets; sums per container and target', async (t) => {
  const { proc, docker, apps } = await scene(t);
  const c = createGpuProcessesCollector(cfg({ proc_root: proc.root }), {
    queryComputeApps: async () => apps,
    listGpuUuids: async () => [GPU1, GPU2, GPU3],
    docker,
    targets: TARGETS,
    log,
  });
  assert.equal(c.name, 'gpu_processes');
  const { snapshot, sink } = await run(c);

  const row = (pid: number, uuid = GPU1) => snapshot.processes.find((p) => p.pid === pid && p.gpuUuid === uuid)!;
  assert.deepEqual(
    [101, 102, 103, 200, 300, 400].map((pid) => {
      const r = row(pid, pid === 300 || pid === 400 ? GPU2 : GPU1);
      return [pid, r.role, r.attribution, r.containerName, r.target, r.orphan];
    }),
    [
      [101, 'ollama_runner', 'container', 'ai-ollama-1', 'main', false],
      [102, 'ollama_discovery', 'container', 'ai-ollama-1', 'main', false],
      [103, 'ollama_runner', 'container', 'ai-ollama-1', 'main', true],
      [200, 'other', 'host', '', null, false],
      [300, 'other', 'unconfirmed', '', null, false],
      [400, 'other', 'exited', '', null, false],
    ],
  );
  assert.equal(row(300, GPU2).containerId, GONE);

  const main = snapshot.targets.find((x) => x.target === 'main')!;
  assert.equal(main.memoryBytes, 4 * GiB + 2 * GiB + 300 * MiB + 1 * GiB);
  assert.deepEqual(main.runners.map((r) => r.pid).sort(), [101, 101, 103]);
  assert.deepEqual(main.orphanRunners, [
    { pid: 103, startTime: 1103, memoryBytes: 1 * GiB, gpuUuids: [GPU1], containerId: A, why: 'parent_not_server' },
  ]);
  assert.equal(
    snapshot.targets.some((x) => x.target === 'remote'),
    false,
    'no selector: no attribution',
  );

  assert.equal(sink.value('sentinel_gpu_processes', { uuid: GPU1 }), 4);
  assert.equal(sink.value('sentinel_gpu_processes', { uuid: GPU2 }), 3);
  assert.equal(sink.value('sentinel_gpu_processes', { uuid: GPU3 }), 0, 'explicit 0 for an idle GPU');
  const cm = (uuid: string, container: string, attribution: string) =>
    sink.value('sentinel_gpu_container_memory_used_bytes', { uuid, container, attribution });
  assert.equal(cm(GPU1, 'ai-ollama-1', 'container'), 4 * GiB + 300 * MiB + 1 * GiB);
  assert.equal(cm(GPU2, 'ai-ollama-1', 'container'), 2 * GiB);
  assert.equal(cm(GPU1, '', 'host'), 5 * GiB);
  assert.equal(cm(GPU2, '', 'unconfirmed'), 700 * MiB);
  assert.equal(cm(GPU2, '', 'exited'), 100 * MiB);
  assert.equal(sink.value('sentinel_ollama_gpu_memory_used_bytes', { target: 'main' }), main.memoryBytes);
  assert.equal(sink.value('sentinel_ollama_gpu_processes', { target: 'main', role: 'ollama_runner' }), 2);
  assert.equal(sink.value('sentinel_ollama_gpu_processes', { target: 'main', role: 'ollama_discovery' }), 1);
  assert.equal(sink.value('sentinel_ollama_gpu_processes', { target: 'main', role: 'ollama_server' }), 0);
  assert.equal(sink.value('sentinel_ollama_gpu_orphan_runners', { target: 'main' }), 1);
  assert.equal(sink.value('sentinel_ollama_gpu_orphan_runner_memory_bytes', { target: 'main' }), 1 * GiB);
  assert.equal(sink.find('sentinel_ollama_gpu_memory_used_bytes', { target: 'remote' }).length, 0);
  assert.equal(sink.find('sentinel_gpu_process_memory_used_bytes').length, 0, 'per-process series are opt-in');
});

test('gpu_processes: per-process series capped per GPU, keeping the largest, with the dropped count', async (t) => {
  const { proc, docker, apps } = await scene(t);
  const c = createGpuProcessesCollector(cfg({ proc_root: proc.root, processes: true, max_processes_per_gpu: 2 }), {
    queryComputeApps: async () => apps,
    docker,
    targets: TARGETS,
    log,
  });
  const { sink } = await run(c);
  const gpu1 = sink.find('sentinel_gpu_process_memory_used_bytes', { uuid: GPU1 });
  assert.deepEqual(
    gpu1.map((s) => [s.labels.pid, s.value]),
    [
      ['200', 5 * GiB],
      ['101', 4 * GiB],
    ],
  );
  assert.deepEqual(gpu1[1]!.labels, {
    uuid: GPU1,
    pid: '101',
    container: 'ai-ollama-1',
    role: 'ollama_runner',
    process_name: OLLAMA,
    attribution: 'container',
  });
  assert.equal(sink.value('sentinel_gpu_processes_dropped', { uuid: GPU1 }), 2);
  assert.equal(sink.value('sentinel_gpu_processes_dropped', { uuid: GPU2 }), 1);
  assert.equal(
    sink.find('sentinel_gpu_processes', { uuid: GPU3 }).length,
    0,
    'no GPU list given: only GPUs with processes',
  );
});

test('gpu_processes: a runner left in a removed container of the target is its orphan (container_gone)', async (t) => {
  const proc = await FakeProcRoot.create();
  t.after(() => proc.cleanup());
  const B = hexId('ollama-b');
  await proc.add({ pid: 100, ppid: 1, argv: [OLLAMA, 'serve'], exe: OLLAMA, containerId: B });
  await proc.add({
    pid: 101,
    ppid: 100,
    argv: [OLLAMA, 'runner', '--model', '/m', '--port', '1'],
    exe: OLLAMA,
    containerId: B,
  });
  const docker = new FakeDockerApi([{ id: B, name: 'ollama', pid: 100 }]);
  const apps = [{ gpuUuid: GPU1, pid: 101, processName: OLLAMA, usedMemoryBytes: 3 * GiB }];
  let now = 0;
  const c = createGpuProcessesCollector(cfg({ proc_root: proc.root }), {
    queryComputeApps: async () => apps,
    docker,
    inspectContainerById: createInspectContainerById(docker, { ttlMs: 5000, now: () => now }),
    targets: [target('main', { kind: 'container', name: 'ollama' })],
    log,
  });
  const first = await run(c);
  assert.equal(first.snapshot.targets[0]!.orphanRunners.length, 0);

  docker.containers.delete(B); // recreated elsewhere; the runner survived in the old cgroup
  now += 5001; // past the inspect cache's TTL
  const second = await run(c);
  const main = second.snapshot.targets[0]!;
  assert.deepEqual(main.containers, []);
  assert.deepEqual(
    main.orphanRunners.map((o) => [o.pid, o.why, o.memoryBytes]),
    [[101, 'container_gone', 3 * GiB]],
  );
  assert.equal(second.sink.value('sentinel_ollama_gpu_orphan_runners', { target: 'main' }), 1);
  assert.equal(
    second.sink.value('sentinel_gpu_container_memory_used_bytes', {
      uuid: GPU1,
      container: '',
      attribution: 'unconfirmed',
    }),
    3 * GiB,
  );
});

test('gpu_processes: Docker down is soft: target usage unknown (no series), processes unconfirmed', async (t) => {
  const { proc, docker, apps } = await scene(t);
  docker.failWith = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  const c = createGpuProcessesCollector(cfg({ proc_root: proc.root }), {
    queryComputeApps: async () => apps,
    docker,
    targets: TARGETS,
    log,
  });
  const { snapshot, sink } = await run(c);
  assert.deepEqual(snapshot.unresolvedTargets, ['main']);
  assert.deepEqual(snapshot.targets, []);
  assert.equal(sink.find('sentinel_ollama_gpu_memory_used_bytes').length, 0);
  const r = snapshot.processes.find((p) => p.pid === 101)!;
  assert.equal(r.attribution, 'unconfirmed');
  assert.equal(r.orphan, false, 'no target known: never called an orphan');
  assert.equal(sink.value('sentinel_gpu_processes', { uuid: GPU1 }), 4);
});

test('gpu_processes: a PID naming another process here (no host PID view) is not traced', async (t) => {
  const proc = await FakeProcRoot.create();
  t.after(() => proc.cleanup());
  await proc.add({ pid: 101, ppid: 1, argv: ['/usr/bin/bash'], exe: '/usr/bin/bash', containerId: A });
  const c = createGpuProcessesCollector(cfg({ proc_root: proc.root }), {
    queryComputeApps: async () => [{ gpuUuid: GPU1, pid: 101, processName: OLLAMA, usedMemoryBytes: GiB }],
    docker: new FakeDockerApi([{ id: A, name: 'x', pid: 1 }]),
    targets: [],
    log,
  });
  const { snapshot } = await run(c);
  assert.equal(snapshot.processes[0]!.attribution, 'exited');
  assert.equal(snapshot.processes[0]!.containerId, null);
});

test('gpu_processes: an Ollama in LXC or nspawn (no Docker id) is unconfirmed, never "host"', async (t) => {
  const proc = await FakeProcRoot.create();
  t.after(() => proc.cleanup());
  const runner = [OLLAMA, 'runner', '--model', '/m', '--port', '1'];
  await proc.add({ pid: 501, ppid: 1, argv: runner, exe: OLLAMA, cgroup: '0::/lxc.payload.ai/ollama.service\n' });
  await proc.add({
    pid: 502,
    ppid: 1,
    argv: runner,
    exe: OLLAMA,
    cgroup: '0::/machine.slice/systemd-nspawn@ai.service/payload/ollama.service\n',
    nsPids: [502, 30],
  });
  await proc.add({ pid: 503, ppid: 1, argv: runner, exe: OLLAMA, cgroup: '0::/system.slice/ollama.service\n' });
  const c = createGpuProcessesCollector(cfg({ proc_root: proc.root }), {
    queryComputeApps: async () =>
      [501, 502, 503].map((pid) => ({ gpuUuid: GPU1, pid, processName: OLLAMA, usedMemoryBytes: GiB })),
    docker: new FakeDockerApi([]),
    targets: [],
    log,
  });
  const { snapshot } = await run(c);
  assert.deepEqual(
    snapshot.processes.map((p) => [p.pid, p.attribution]),
    [
      [501, 'unconfirmed'],
      [502, 'unconfirmed'],
      [503, 'host'],
    ],
  );
});

test('gpu_processes: repeated runs reuse the inspect cache instead of asking Docker per PID', async (t) => {
  const { proc, docker, apps } = await scene(t);
  const c = createGpuProcessesCollector(cfg({ proc_root: proc.root }), {
    queryComputeApps: async () => apps,
    docker,
    targets: [],
    log,
  });
  await run(c);
  const after1 = docker.calls.inspect;
  await run(c);
  assert.equal(after1, 2, 'one inspect per distinct container id (A and the unknown one)');
  assert.equal(docker.calls.inspect, after1, 'second run served from the cache (positive and negative)');
});

test('gpu_processes: nvidia-smi failures become CollectErrors with the same bounded reason', async () => {
  const c = createGpuProcessesCollector(cfg(), {
    queryComputeApps: async () => {
      throw new NvidiaSmiError('version_mismatch', 'Failed to initialize NVML: Driver/library version mismatch');
    },
    docker: new FakeDockerApi(),
    targets: [],
    log,
  });
  await assert.rejects(c.collect({ signal: new AbortController().signal, now: Date.now }), (err: unknown) => {
    assert.ok(err instanceof CollectError);
    assert.equal(err.reason, 'version_mismatch');
    return true;
  });
});

test('gpu_processes: idle GPUs report an explicit zero and nothing else', async () => {
  const c = createGpuProcessesCollector(cfg({ processes: true }), {
    queryComputeApps: async () => [],
    listGpuUuids: async () => [GPU1],
    docker: new FakeDockerApi(),
    targets: [target('main', { kind: 'container', name: 'ollama' })],
    log,
  });
  const { sink } = await run(c);
  assert.equal(sink.value('sentinel_gpu_processes', { uuid: GPU1 }), 0);
  assert.equal(sink.value('sentinel_gpu_processes_dropped', { uuid: GPU1 }), 0);
  assert.equal(sink.value('sentinel_ollama_gpu_memory_used_bytes', { target: 'main' }), 0);
});

test('gpu_processes: per-process SM utilization (NVML) is published with the per-process series, absent when not sampled', async (t) => {
  const { proc, docker, apps } = await scene(t);
  const sampled = apps.map((a) => (a.pid === 101 ? { ...a, smUtilizationRatio: 0.87 } : a));
  const c = createGpuProcessesCollector(cfg({ proc_root: proc.root, processes: true }), {
    queryComputeApps: async () => sampled,
    docker,
    targets: TARGETS,
    log,
  });
  const { sink } = await run(c);
  const util = sink.find('sentinel_gpu_process_sm_utilization_ratio');
  assert.equal(util.length, apps.filter((a) => a.pid === 101).length);
  for (const s of util) assert.deepEqual([s.labels.pid, s.labels.role, s.value], ['101', 'ollama_runner', 0.87]);
});
