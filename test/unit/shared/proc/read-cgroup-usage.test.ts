import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { readCgroupUsage } from '../../../../shared/proc/read-cgroup-usage.js';

const fixtures = fileURLToPath(new URL('../../../../../test/fixtures/cgroup/', import.meta.url));
const V1_ID = '6de3f1c14b128c8f8b3afabb0115e4283f4100f9d3c7d458bd6039e7502284f3';
const V2_ID = '316c8cccb4989e48d1d9952150aa6184e2349979e1abcb57ffdaa179f53f361d';
const tree = (name: string) => ({ procRoot: join(fixtures, name, 'proc'), cgroupRoot: join(fixtures, name, 'sys/fs/cgroup') });

test('readCgroupUsage: cgroup v1 (cgroupfs driver, cpu,cpuacct co-mounted)', async () => {
  const usage = await readCgroupUsage({ ...tree('usage-v1'), pid: 4242, containerId: V1_ID });
  assert.deepEqual(usage, {
    cpuSeconds: 12.5, // cpuacct.usage is in ns
    memoryBytes: 900_000_000 - 100_000_000, // usage_in_bytes - total_inactive_file
    ioReadBytes: 4_927_488 + 1024,
    ioWriteBytes: 8192,
    source: 'cgroup_v1',
  });
});

test('readCgroupUsage: cgroup v2 (systemd driver scope)', async () => {
  const usage = await readCgroupUsage({ ...tree('usage-v2'), pid: 777, containerId: V2_ID });
  assert.deepEqual(usage, {
    cpuSeconds: 3, // usage_usec
    memoryBytes: 50_000_000 - 10_000_000, // memory.current - inactive_file
    ioReadBytes: 7_340_032 + 1024,
    ioWriteBytes: 4096,
    source: 'cgroup_v2',
  });
});

test('readCgroupUsage: the PID belongs to another container (reused PID) -> null, never the wrong numbers', async () => {
  assert.equal(await readCgroupUsage({ ...tree('usage-v2'), pid: 777, containerId: V1_ID }), null);
  assert.equal(await readCgroupUsage({ ...tree('usage-v1'), pid: 4242, containerId: V2_ID }), null);
});

test('readCgroupUsage: files not visible (wrong root, gone PID, bad PID) -> null', async () => {
  assert.equal(await readCgroupUsage({ procRoot: tree('usage-v1').procRoot, cgroupRoot: join(fixtures, 'nope'), pid: 4242, containerId: V1_ID }), null);
  assert.equal(await readCgroupUsage({ ...tree('usage-v1'), pid: 9999, containerId: V1_ID }), null);
  assert.equal(await readCgroupUsage({ ...tree('usage-v1'), pid: 0, containerId: V1_ID }), null);
});
