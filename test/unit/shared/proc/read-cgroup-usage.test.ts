import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import {
  parseBlkioServiceBytes,
  parseCgroupPaths,
  parseFlatKeyed,
  parseIoStat,
  parseSingleValue,
  readCgroupUsage,
} from '../../../../shared/proc/read-cgroup-usage.js';

const fixtures = fileURLToPath(new URL('../../../../../test/fixtures/cgroup/', import.meta.url));
const V1_ID = '6de3f1c14b128c8f8b3afabb0115e4283f4100f9d3c7d458bd6039e7502284f3';
const V2_ID = '316c8cccb4989e48d1d9952150aa6184e2349979e1abcb57ffdaa179f53f361d';
const tree = (name: string) => ({
  procRoot: join(fixtures, name, 'proc'),
  cgroupRoot: join(fixtures, name, 'sys/fs/cgroup'),
});

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
  assert.equal(
    await readCgroupUsage({
      procRoot: tree('usage-v1').procRoot,
      cgroupRoot: join(fixtures, 'nope'),
      pid: 4242,
      containerId: V1_ID,
    }),
    null,
  );
  assert.equal(await readCgroupUsage({ ...tree('usage-v1'), pid: 9999, containerId: V1_ID }), null);
  assert.equal(await readCgroupUsage({ ...tree('usage-v1'), pid: 0, containerId: V1_ID }), null);
});

test('parseSingleValue: one number with a newline; garbage throws', () => {
  assert.equal(parseSingleValue('12500000000\n'), 12_500_000_000);
  assert.throws(() => parseSingleValue('max\n'));
  assert.throws(() => parseSingleValue('\n'));
});

test('parseFlatKeyed: cpu.stat keys; malformed lines skipped', () => {
  const m = parseFlatKeyed('usage_usec 3000000\nuser_usec 2500000\nbroken\nthree words here\nnr_periods 0\n');
  assert.equal(m.get('usage_usec'), 3_000_000);
  assert.equal(m.get('nr_periods'), 0);
  assert.equal(m.has('broken'), false);
  assert.equal(m.size, 3);
});

test('parseIoStat: sums rbytes and wbytes over devices', () => {
  const io = parseIoStat(
    '259:0 rbytes=7340032 wbytes=4096 rios=120 wios=1 dbytes=0 dios=0\n8:0 rbytes=1024 wbytes=10 rios=1 wios=0\n',
  );
  assert.deepEqual(io, { readBytes: 7_341_056, writeBytes: 4106 });
  assert.deepEqual(parseIoStat(''), { readBytes: 0, writeBytes: 0 });
});

test('parseBlkioServiceBytes: per-device Read/Write summed, Total lines ignored', () => {
  const io = parseBlkioServiceBytes(
    '8:0 Read 100\n8:0 Write 20\n8:0 Sync 120\n8:0 Total 120\n8:16 Read 5\nTotal 125\n',
  );
  assert.deepEqual(io, { readBytes: 105, writeBytes: 20 });
});

test('parseCgroupPaths: v1 controllers with their mount names, and the unified line', () => {
  const p = parseCgroupPaths(
    '3:cpu,cpuacct:/docker/abc\n11:memory:/docker/abc\n1:name=systemd:/docker/abc\n0::/system.slice/containerd.service\n',
  );
  assert.equal(p.unified, '/system.slice/containerd.service');
  assert.deepEqual(p.v1.get('cpuacct'), { path: '/docker/abc', mount: 'cpu,cpuacct' });
  assert.deepEqual(p.v1.get('memory'), { path: '/docker/abc', mount: 'memory' });
  assert.equal(p.v1.get('name=systemd')?.path, '/docker/abc');
});
