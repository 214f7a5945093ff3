import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeProcessInfos,
  implausibleProcessList,
  processInfoStride,
} from '../../../../shared/gpu/nvml-process-layout.js';

const GiB = 1073741824;

/** Entries as a driver writes them: 24 bytes, or 32 with usedGpuCcProtectedMemory (always 0 here) appended. */
function entries(stride: 24 | 32, list: readonly { pid: number; mem: number }[]): Uint8Array {
  const buf = Buffer.alloc(list.length * 32 + 64); // the caller's buffer always has room for 32-byte entries
  list.forEach((p, i) => {
    buf.writeUInt32LE(p.pid, i * stride);
    buf.writeBigUInt64LE(BigInt(p.mem), i * stride + 8);
    buf.writeUInt32LE(0xffffffff, i * stride + 16);
    buf.writeUInt32LE(0xffffffff, i * stride + 20);
  });
  return buf;
}

const PROCS = [
  { pid: 4242, mem: 4467 * 1048576 },
  { pid: 4300, mem: 12 * GiB },
  { pid: 77, mem: 500 * 1048576 },
];

test('the stride comes from the driver version: 32 bytes only on early R535', () => {
  for (const v of ['535.43.02', '535.54.03', '535.86.10']) assert.equal(processInfoStride(v), 32, v);
  for (const v of ['510.39.01', '530.30.02', '535.98', '535.104.05', '545.23.06', '580.159.04', 'garbage'])
    assert.equal(processInfoStride(v), 24, v);
});

for (const stride of [24, 32] as const) {
  test(`${stride}-byte entries decode with their own stride and pass the plausibility check`, () => {
    const list = decodeProcessInfos(entries(stride, PROCS), PROCS.length, stride);
    assert.deepEqual(
      list.map((p) => ({ pid: p.pid, mem: p.usedMemoryBytes })),
      PROCS.map((p) => ({ pid: p.pid, mem: p.mem })),
    );
    assert.equal(implausibleProcessList(list, 80 * GiB), undefined);
  });

  const other = stride === 24 ? 32 : 24;
  test(`${stride}-byte entries read with a ${other}-byte stride are detected`, () => {
    const list = decodeProcessInfos(entries(stride, PROCS), PROCS.length, other);
    assert.match(implausibleProcessList(list, 80 * GiB) ?? '', /pid|instance|uses/);
  });
}

test('one process reads the same with either stride (only later entries shift)', () => {
  const one = [PROCS[0]!];
  assert.equal(implausibleProcessList(decodeProcessInfos(entries(32, one), 1, 24), 80 * GiB), undefined);
  assert.equal(implausibleProcessList(decodeProcessInfos(entries(24, one), 1, 32), 80 * GiB), undefined);
});

test('memory NVML cannot tell is absent, not 16 EiB', () => {
  const buf = entries(24, [{ pid: 9, mem: 0 }]);
  Buffer.from(buf.buffer).writeBigUInt64LE(0xffffffffffffffffn, 8);
  const [p] = decodeProcessInfos(buf, 1, 24);
  assert.equal(p!.usedMemoryBytes, undefined);
  assert.equal(implausibleProcessList([p!], 80 * GiB), undefined);
});
