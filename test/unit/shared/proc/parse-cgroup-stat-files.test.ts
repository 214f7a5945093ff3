import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBlkioServiceBytes } from '../../../../shared/proc/parse-blkio-service-bytes.js';
import { parseFlatKeyed } from '../../../../shared/proc/parse-flat-keyed.js';
import { parseIoStat } from '../../../../shared/proc/parse-io-stat.js';
import { parseSingleValue } from '../../../../shared/proc/parse-single-value.js';
import { parseCgroupPaths } from '../../../../shared/proc/parse-cgroup-paths.js';

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
  const io = parseIoStat('259:0 rbytes=7340032 wbytes=4096 rios=120 wios=1 dbytes=0 dios=0\n8:0 rbytes=1024 wbytes=10 rios=1 wios=0\n');
  assert.deepEqual(io, { readBytes: 7_341_056, writeBytes: 4106 });
  assert.deepEqual(parseIoStat(''), { readBytes: 0, writeBytes: 0 });
});

test('parseBlkioServiceBytes: per-device Read/Write summed, Total lines ignored', () => {
  const io = parseBlkioServiceBytes('8:0 Read 100\n8:0 Write 20\n8:0 Sync 120\n8:0 Total 120\n8:16 Read 5\nTotal 125\n');
  assert.deepEqual(io, { readBytes: 105, writeBytes: 20 });
});

test('parseCgroupPaths: v1 controllers with their mount names, and the unified line', () => {
  const p = parseCgroupPaths('3:cpu,cpuacct:/docker/abc\n11:memory:/docker/abc\n1:name=systemd:/docker/abc\n0::/system.slice/containerd.service\n');
  assert.equal(p.unified, '/system.slice/containerd.service');
  assert.deepEqual(p.v1.get('cpuacct'), { path: '/docker/abc', mount: 'cpu,cpuacct' });
  assert.deepEqual(p.v1.get('memory'), { path: '/docker/abc', mount: 'memory' });
  assert.equal(p.v1.get('name=systemd')?.path, '/docker/abc');
});
