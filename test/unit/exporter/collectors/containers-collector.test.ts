import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { pino } from 'pino';
import {
  createContainersCollector,
  type ContainersSnapshot,
} from '../../../../exporter/collectors/containers-collector.js';
import { CollectError, type Collector } from '../../../../exporter/collector.js';
import { PromSink } from '../../../../exporter/metrics/prom-sink.js';
import type { OllamaTargetConfig } from '../../../../shared/config/types.js';
import { defaultCgroupRoot } from '../../../../shared/proc/read-cgroup-usage.js';
import { RecordingSink } from '../../../helpers/recording-sink.js';
import { FakeDockerApi, hexId } from '../../../helpers/fake-docker-api.js';

const fixtures = fileURLToPath(new URL('../../../../../test/fixtures/cgroup/', import.meta.url));
const V1_ID = '6de3f1c14b128c8f8b3afabb0115e4283f4100f9d3c7d458bd6039e7502284f3';
const V2_ID = '316c8cccb4989e48d1d9952150aa6184e2349979e1abcb57ffdaa179f53f361d';
const log = pino({ level: 'silent' });

const target = (name: string, container?: OllamaTargetConfig['container']): OllamaTargetConfig => ({
  name,
  url: 'http://127.0.0.1:11434',
  headers: {},
  ...(container ? { container } : {}),
});

async function run(c: Collector<ContainersSnapshot>) {
  const snapshot = await c.collect({ signal: new AbortController().signal, now: Date.now });
  const sink = new RecordingSink();
  c.render(snapshot, sink);
  c.render(snapshot, new PromSink()); // refuses inconsistent label names
  return { snapshot, sink };
}

const dockerStats = {
  cpu_stats: { cpu_usage: { total_usage: 7_000_000_000 } },
  memory_stats: { usage: 2_000_000, stats: { total_inactive_file: 500_000 } },
  blkio_stats: {
    io_service_bytes_recursive: [
      { major: 8, minor: 0, op: 'Read', value: 11 },
      { major: 8, minor: 0, op: 'Write', value: 22 },
    ],
  },
};

test('containers: cgroup v1 files when visible, Docker stats otherwise; identity and start time', async () => {
  const docker = new FakeDockerApi([
    {
      id: V1_ID,
      name: 'ollama',
      pid: 4242,
      image: 'ollama/ollama:0.6.2',
      startedAt: '2026-11-22T10:00:00Z',
      stats: dockerStats,
    },
    // Its PID is not under this proc root: read through the daemon instead.
    {
      id: hexId('swarm-1'),
      name: 'llm_ollama.1.x',
      pid: 5,
      labels: { 'com.docker.swarm.service.name': 'llm_ollama' },
      stats: dockerStats,
    },
  ]);
  const c = createContainersCollector(
    {
      intervalMs: 15000,
      timeoutMs: 5000,
      procRoot: join(fixtures, 'usage-v1/proc'),
      cgroupRoot: join(fixtures, 'usage-v1/sys/fs/cgroup'),
    },
    {
      docker,
      targets: [
        target('a', { kind: 'container', name: 'ollama' }),
        target('b', { kind: 'swarm', service: 'llm_ollama' }),
        target('plain'),
      ],
      log,
    },
  );
  assert.equal(c.name, 'containers');
  const { snapshot, sink } = await run(c);

  assert.equal(snapshot.targets[0]!.containers[0]!.usage?.source, 'cgroup_v1');
  assert.equal(snapshot.targets[1]!.containers[0]!.usage?.source, 'docker');
  assert.equal(docker.calls.stats, 1, 'the daemon is asked only for the container whose cgroup is not visible');

  const a = { target: 'a', container: 'ollama' };
  assert.equal(sink.value('sentinel_ollama_container_running', { target: 'a' }), 1);
  assert.equal(sink.value('sentinel_ollama_container_info', { ...a, id: V1_ID, image: 'ollama/ollama:0.6.2' }), 1);
  assert.equal(
    sink.value('sentinel_ollama_container_start_time_seconds', a),
    Date.parse('2026-11-22T10:00:00Z') / 1000,
  );
  assert.equal(sink.value('sentinel_ollama_container_cpu_seconds_total', a), 12.5);
  assert.equal(sink.value('sentinel_ollama_container_memory_bytes', a), 800_000_000);
  assert.equal(sink.value('sentinel_ollama_container_io_read_bytes_total', a), 4_928_512);
  assert.equal(sink.value('sentinel_ollama_container_io_write_bytes_total', a), 8192);
  assert.equal(sink.find('sentinel_ollama_container_cpu_seconds_total', a)[0]!.type, 'counter');

  const b = { target: 'b', container: 'llm_ollama.1.x' };
  assert.equal(sink.value('sentinel_ollama_container_cpu_seconds_total', b), 7);
  assert.equal(sink.value('sentinel_ollama_container_memory_bytes', b), 1_500_000);
  assert.equal(sink.value('sentinel_ollama_container_io_write_bytes_total', b), 22);
  assert.equal(
    sink.find('sentinel_ollama_container_running', { target: 'plain' }).length,
    0,
    'no selector: nothing to say',
  );
});

test('containers: cgroup v2 files', async () => {
  const docker = new FakeDockerApi([{ id: V2_ID, name: 'ollama', pid: 777 }]);
  const c = createContainersCollector(
    {
      intervalMs: 15000,
      timeoutMs: 5000,
      procRoot: join(fixtures, 'usage-v2/proc'),
      cgroupRoot: join(fixtures, 'usage-v2/sys/fs/cgroup'),
    },
    { docker, targets: [target('a', { kind: 'container', name: 'ollama' })], log },
  );
  const { sink } = await run(c);
  assert.equal(sink.value('sentinel_ollama_container_cpu_seconds_total', { container: 'ollama' }), 3);
  assert.equal(sink.value('sentinel_ollama_container_memory_bytes', { container: 'ollama' }), 40_000_000);
  assert.equal(docker.calls.stats, 0);
});

test('containers: no running container -> running 0 and no other series', async () => {
  const docker = new FakeDockerApi([{ id: hexId('x'), name: 'ollama', running: false }]);
  const c = createContainersCollector(
    { intervalMs: 1000, timeoutMs: 1000, procRoot: '/nonexistent/proc' },
    {
      docker,
      targets: [target('a', { kind: 'compose', project: 'ai', service: 'ollama' })],
      log,
    },
  );
  const { sink } = await run(c);
  assert.equal(sink.value('sentinel_ollama_container_running', { target: 'a' }), 0);
  assert.equal(sink.samples.length, 1);
});

test('containers: a container gone before its stats keeps its identity, loses its usage', async () => {
  const docker = new FakeDockerApi([{ id: hexId('y'), name: 'ollama', pid: 9 }]);
  const racing = {
    listContainers: docker.listContainers.bind(docker),
    getContainer: (id: string) => {
      const real = docker.getContainer(id);
      return {
        inspect: real.inspect,
        stats: async () => {
          throw Object.assign(new Error('no such container'), { statusCode: 404 });
        },
      };
    },
  };
  const c = createContainersCollector(
    { intervalMs: 1000, timeoutMs: 1000, procRoot: '/nonexistent/proc' },
    {
      docker: racing,
      targets: [target('a', { kind: 'container', name: 'ollama' })],
      log,
    },
  );
  const { sink } = await run(c);
  assert.equal(sink.value('sentinel_ollama_container_running', { target: 'a' }), 1);
  assert.equal(sink.find('sentinel_ollama_container_cpu_seconds_total').length, 0);
});

test('containers: Docker unreachable fails the run with reason "docker"', async () => {
  const docker = new FakeDockerApi();
  docker.failWith = new Error('connect ENOENT /var/run/docker.sock');
  const c = createContainersCollector(
    { intervalMs: 1000, timeoutMs: 1000, procRoot: '/proc' },
    {
      docker,
      targets: [target('a', { kind: 'container', name: 'ollama' })],
      log,
    },
  );
  await assert.rejects(c.collect({ signal: new AbortController().signal, now: Date.now }), (err: unknown) => {
    assert.ok(err instanceof CollectError);
    assert.equal(err.reason, 'docker');
    return true;
  });
});

test('defaultCgroupRoot: the cgroup mount beside the proc root', () => {
  assert.equal(defaultCgroupRoot('/proc'), '/sys/fs/cgroup');
  assert.equal(defaultCgroupRoot('/host/proc/'), '/host/sys/fs/cgroup');
});
