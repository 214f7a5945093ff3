import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerStats } from '../../../../shared/docker/read-docker-stats.js';

// Trimmed from real `GET /containers/{id}/stats?stream=false` answers of Docker 20.10 (cgroup v1) and 24 (cgroup v2).
const v1 = {
  read: '2026-11-22T10:00:01.5Z',
  cpu_stats: {
    cpu_usage: { total_usage: 12_500_000_000, usage_in_kernelmode: 2e9, usage_in_usermode: 10e9 },
    system_cpu_usage: 9e15,
    online_cpus: 2,
  },
  memory_stats: {
    usage: 900_000_000,
    limit: 25e9,
    stats: { total_inactive_file: 100_000_000, cache: 300_000_000, rss: 500_000_000 },
  },
  blkio_stats: {
    io_service_bytes_recursive: [
      { major: 8, minor: 0, op: 'Read', value: 4096 },
      { major: 8, minor: 0, op: 'Write', value: 8192 },
      { major: 8, minor: 0, op: 'Sync', value: 12288 },
      { major: 8, minor: 0, op: 'Total', value: 12288 },
      { major: 8, minor: 16, op: 'Read', value: 1024 },
    ],
  },
};
const v2 = {
  cpu_stats: { cpu_usage: { total_usage: 3_000_000_000 } },
  memory_stats: { usage: 50_000_000, stats: { inactive_file: 10_000_000, anon: 30_000_000 } },
  blkio_stats: {
    io_service_bytes_recursive: [
      { major: 259, minor: 0, op: 'read', value: 7 },
      { major: 259, minor: 0, op: 'write', value: 9 },
    ],
  },
};

test('parseDockerStats: cgroup v1 answer', () => {
  assert.deepEqual(parseDockerStats(v1), {
    cpuSeconds: 12.5,
    memoryBytes: 800_000_000,
    ioReadBytes: 5120,
    ioWriteBytes: 8192,
    source: 'docker',
  });
});

test('parseDockerStats: cgroup v2 answer, lower-case ops', () => {
  assert.deepEqual(parseDockerStats(v2), {
    cpuSeconds: 3,
    memoryBytes: 40_000_000,
    ioReadBytes: 7,
    ioWriteBytes: 9,
    source: 'docker',
  });
});

test('parseDockerStats: no IO yet (null list) reads as zero IO', () => {
  const stats = parseDockerStats({ ...v2, blkio_stats: { io_service_bytes_recursive: null } });
  assert.equal(stats?.ioReadBytes, 0);
  assert.equal(stats?.ioWriteBytes, 0);
});

test('parseDockerStats: a stopped container (no usage) and garbage give null', () => {
  assert.equal(parseDockerStats({ cpu_stats: { cpu_usage: { total_usage: 0 } }, memory_stats: {} }), null);
  assert.equal(parseDockerStats(null), null);
  assert.equal(parseDockerStats('x'), null);
});
