import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import {
  createRunnersCollector,
  runnerFor,
  gpuByPid,
  type RunnersSnapshot,
} from '../../../../exporter/collectors/runners-collector.js';
import { CollectError, type Collector } from '../../../../exporter/collector.js';
import { buildObservations } from '../../../../exporter/build-observations.js';
import { PromSink } from '../../../../exporter/metrics/prom-sink.js';
import type { OllamaTargetConfig } from '../../../../shared/config/types.js';
import { RecordingSink } from '../../../helpers/recording-sink.js';
import { FakeDockerApi, hexId } from '../../../helpers/fake-docker-api.js';
import { FakeProcRoot } from '../../../helpers/fake-proc-root.js';
import { writeFakeCounters, type FakeCounters } from '../../../helpers/fake-proc-counters.js';

const A = hexId('ollama-a'); // the target's container
const B = hexId('other-b'); // another compose project's container
const HIDDEN = hexId('hidden'); // a container whose processes this exporter cannot see
const LLAMA = '/usr/lib/ollama/llama-server';
const OLLAMA = '/usr/bin/ollama';
const HEX1 = '1'.repeat(64);
const HEX2 = '2'.repeat(64);
const GiB = 1024 ** 3;
const log = pino({ level: 'silent' });

const target = (name: string, project?: string): OllamaTargetConfig => ({
  name,
  url: 'http://127.0.0.1:11434',
  headers: {},
  ...(project ? { container: { kind: 'compose', project, service: 'ollama' } } : {}),
});
const TARGETS = [target('main', 'ai'), target('hidden', 'hid'), target('remote')];
const compose = (project: string) => ({
  'com.docker.compose.project': project,
  'com.docker.compose.service': 'ollama',
  'com.docker.compose.oneoff': 'False',
});

const runner033 = (hex: string, port: number) => [
  LLAMA,
  '--model',
  `/root/.ollama/models/blobs/sha256-${hex}`,
  '--port',
  String(port),
  '--host',
  '127.0.0.1',
  '--no-webui',
  '--offline',
  '-c',
  '8192',
  '-np',
  '2',
];

interface Scene {
  proc: FakeProcRoot;
  docker: FakeDockerApi;
  /** Sets a process's counters (CPU ticks, RSS, io). */
  counters(pid: number, c: Partial<FakeCounters>): Promise<void>;
}

async function scene(t: TestContext): Promise<Scene> {
  const proc = await FakeProcRoot.create();
  t.after(() => proc.cleanup());
  // Up 900 s: collected at 1_000_000 ms, the host booted at 100_000 ms.
  await writeFile(join(proc.root, 'uptime'), '900.00 1790.00\n');
  const inA = { containerId: A };
  await proc.add({
    pid: 90,
    ppid: 1,
    argv: ['/sbin/tini', '--', OLLAMA, 'serve'],
    exe: '/sbin/tini',
    ...inA,
    nsPids: [90, 1],
  });
  await proc.add({ pid: 100, ppid: 90, argv: [OLLAMA, 'serve'], exe: OLLAMA, ...inA });
  await proc.add({ pid: 101, ppid: 100, argv: runner033(HEX1, 41001), exe: LLAMA, ...inA, startTime: 5000 });
  await proc.add({
    pid: 102,
    ppid: 100,
    argv: [OLLAMA, 'runner', '--ollama-engine', '--model', `/root/.ollama/models/blobs/sha256-${HEX2}`, '--port', '4'],
    exe: OLLAMA,
    ...inA,
    startTime: 6000,
  });
  await proc.add({
    pid: 103,
    ppid: 100,
    argv: [LLAMA, '--list-devices', '--offline', '--verbose'],
    exe: LLAMA,
    ...inA,
  });
  await proc.add({
    pid: 104,
    ppid: 100,
    argv: [OLLAMA, 'gpu-discover', '--lib-dir', '/usr/lib/ollama'],
    exe: OLLAMA,
    ...inA,
  });
  // Another container's runner, a host llama-server, an unrelated process in the target's container.
  await proc.add({ pid: 200, ppid: 1, argv: [OLLAMA, 'serve'], exe: OLLAMA, containerId: B, nsPids: [200, 1] });
  await proc.add({ pid: 201, ppid: 200, argv: runner033(HEX1, 42001), exe: LLAMA, containerId: B });
  await proc.add({ pid: 301, ppid: 1, argv: runner033(HEX1, 43001), exe: LLAMA });
  await proc.add({ pid: 105, ppid: 90, argv: ['/bin/sh', '-c', 'ollama list'], exe: '/bin/sh', ...inA });
  const docker = new FakeDockerApi([
    { id: A, name: 'ai-ollama-1', pid: 90, labels: compose('ai') },
    { id: B, name: 'other-ollama-1', pid: 200, labels: compose('other') },
    // Its main PID is not in this proc root (another PID namespace): nothing about it can be seen.
    { id: HIDDEN, name: 'hid-ollama-1', pid: 4242, labels: compose('hid') },
  ]);
  const state = new Map<number, FakeCounters>([
    [101, { ppid: 100, startTime: 5000, cpuTicks: 1000, rssKb: 512 * 1024, io: { rchar: 10, readBytes: 0 } }],
    [102, { ppid: 100, startTime: 6000, cpuTicks: 300, rssKb: 256 * 1024 }],
  ]);
  const counters = async (pid: number, c: Partial<FakeCounters>) => {
    const next = { ...state.get(pid)!, ...c };
    state.set(pid, next);
    await writeFakeCounters(proc.root, pid, next);
  };
  await counters(101, {});
  await counters(102, {});
  return { proc, docker, counters };
}

function collector(s: Scene, vram?: Map<number, number>): Collector<RunnersSnapshot> {
  return createRunnersCollector(
    { intervalMs: 15_000, timeoutMs: 5000, procRoot: s.proc.root },
    {
      docker: s.docker,
      targets: TARGETS,
      log,
      ...(vram ? { gpuByPid: () => new Map([...vram].map(([pid, b]) => [pid, { vramBytes: b, smRatio: null }])) } : {}),
    },
  );
}

async function collectAt(c: Collector<RunnersSnapshot>, atMs: number): Promise<RunnersSnapshot> {
  return c.collect({ signal: new AbortController().signal, now: () => atMs });
}

test('runners: finds the target container runners (argv, VRAM, start) and discovery PIDs; hidden targets absent', async (t) => {
  const s = await scene(t);
  const snap = await collectAt(collector(s, new Map([[101, 6 * GiB]])), 1_000_000);
  assert.equal(snap.atMs, 1_000_000);
  assert.deepEqual(
    snap.targets.map((x) => x.target),
    ['main'],
    'hidden: main PID not visible; remote: no container selector',
  );
  const main = snap.targets[0]!;
  assert.deepEqual(main.discoveryPids, [103, 104]);
  assert.deepEqual(main.runners, [
    {
      pid: 101,
      modelBlob: `sha256-${HEX1}`,
      slots: 2,
      vramBytes: 6 * GiB,
      progress: 'unknown',
      flatForMs: 0,
      memoryGrowing: false,
      startedAtMs: 100_000 + 50_000,
    },
    {
      pid: 102,
      modelBlob: `sha256-${HEX2}`,
      slots: null,
      vramBytes: 0,
      progress: 'unknown',
      flatForMs: 0,
      memoryGrowing: false,
      startedAtMs: 100_000 + 60_000,
    },
  ]);
  assert.equal(runnerFor(snap, 'main', `sha256-${HEX2}`)?.pid, 102);
  assert.equal(runnerFor(snap, 'main', 'sha256-3'), null);
  assert.equal(runnerFor(snap, 'main', null), null);
  assert.equal(runnerFor(snap, 'hidden', `sha256-${HEX1}`), null);
  assert.equal(runnerFor(undefined, 'main', `sha256-${HEX1}`), null);
});

test('runners: progress over samples: working, flat, and a reused PID starting over', async (t) => {
  const s = await scene(t);
  const c = collector(s);
  await collectAt(c, 0);
  // 101 loads (CPU + RSS up), 102 idles (a few ticks of health polling)
  await s.counters(101, { cpuTicks: 2500, rssKb: 4 * 1024 * 1024 });
  await s.counters(102, { cpuTicks: 305 });
  const second = await collectAt(c, 15_000);
  const byPid = (snap: RunnersSnapshot, pid: number) => snap.targets[0]!.runners.find((r) => r.pid === pid)!;
  assert.deepEqual([byPid(second, 101).progress, byPid(second, 101).flatForMs], ['progressing', 0]);
  assert.deepEqual([byPid(second, 102).progress, byPid(second, 102).flatForMs], ['flat', 15_000]);
  assert.equal(byPid(second, 101).vramBytes, null, 'no gpu_processes source: VRAM unknown');

  // 101 stalls; 102 exits and its PID is reused by a new runner (new start time)
  await s.counters(102, { startTime: 9000, cpuTicks: 1 });
  const third = await collectAt(c, 30_000);
  assert.deepEqual([byPid(third, 101).progress, byPid(third, 101).flatForMs], ['flat', 15_000]);
  assert.equal(byPid(third, 102).progress, 'unknown');
  const fourth = await collectAt(c, 45_000);
  assert.deepEqual([byPid(fourth, 101).progress, byPid(fourth, 101).flatForMs], ['flat', 30_000]);
  assert.deepEqual([byPid(fourth, 102).progress, byPid(fourth, 102).flatForMs], ['flat', 15_000]);

  const sink = new RecordingSink();
  c.render(fourth, sink);
  c.render(fourth, new PromSink());
  assert.equal(sink.value('sentinel_ollama_runners', { target: 'main', progress: 'flat' }), 2);
  assert.equal(sink.value('sentinel_ollama_runners', { target: 'main', progress: 'progressing' }), 0);
  assert.equal(sink.value('sentinel_ollama_runners', { target: 'main', progress: 'unknown' }), 0);
  assert.equal(sink.value('sentinel_ollama_runner_flat_seconds', { target: 'main' }), 30);
  assert.equal(sink.value('sentinel_ollama_discovery_processes', { target: 'main' }), 2);
  assert.ok(
    sink.samples.every((x) => !('pid' in x.labels)),
    'no per-PID series',
  );
});

test('runners: VRAM changes from the gpu_processes join count as progress', async (t) => {
  const s = await scene(t);
  const vram = new Map([[101, 1 * GiB]]);
  const c = collector(s, vram);
  await collectAt(c, 0);
  vram.set(101, 3 * GiB);
  const snap = await collectAt(c, 15_000);
  assert.equal(snap.targets[0]!.runners.find((r) => r.pid === 101)!.progress, 'progressing');
  assert.equal(snap.targets[0]!.runners.find((r) => r.pid === 102)!.progress, 'flat');
});

test('runners: a runner gone between scan and read is left out; the observation joins runners and discovery', async (t) => {
  const s = await scene(t);
  await s.proc.remove(102);
  const snap = await collectAt(collector(s), 0);
  assert.deepEqual(
    snap.targets[0]!.runners.map((r) => r.pid),
    [101],
  );
  const [main, hidden, remote] = buildObservations({
    targets: TARGETS,
    models: [],
    gpu: undefined,
    gpuError: null,
    ollama: undefined,
    probes: undefined,
    gpuUsage: undefined,
    runners: snap,
  });
  assert.deepEqual(
    main!.runners?.map((r) => r.pid),
    [101],
  );
  assert.deepEqual(main!.discoveryPids, [103, 104]);
  assert.equal(hidden!.runners, null, 'not visible: unknown, never "no runner"');
  assert.equal(hidden!.discoveryPids, null);
  assert.equal(remote!.runners, null);
});

test('runners: Docker down for every target fails the run with reason docker', async (t) => {
  const s = await scene(t);
  s.docker.failWith = new Error('connect ENOENT /var/run/docker.sock');
  await assert.rejects(
    collectAt(collector(s), 0),
    (err: unknown) => err instanceof CollectError && err.reason === 'docker',
  );
});

test('gpuByPid sums a PID over GPUs and keeps its highest SM share; no snapshot is undefined', () => {
  const p = (pid: number, gpuUuid: string, usedMemoryBytes: number | null, smUtilizationRatio?: number) =>
    ({
      pid,
      gpuUuid,
      usedMemoryBytes,
      ...(smUtilizationRatio !== undefined ? { smUtilizationRatio } : {}),
    }) as unknown as import('../../../../shared/attribution/gpu-attribution.js').GpuProcess;
  const map = gpuByPid({
    gpuUuids: ['g1', 'g2'],
    processes: [p(7, 'g1', 2 * GiB, 0.2), p(7, 'g2', 1 * GiB, 0.45), p(8, 'g1', null), p(9, 'g2', GiB, 0)],
    targets: [],
    unresolvedTargets: [],
  });
  assert.deepEqual(
    [...map!],
    [
      [7, { vramBytes: 3 * GiB, smRatio: 0.45 }],
      [8, { vramBytes: 0, smRatio: null }],
      [9, { vramBytes: GiB, smRatio: 0 }],
    ],
  );
  assert.equal(gpuByPid(undefined), undefined);
});
