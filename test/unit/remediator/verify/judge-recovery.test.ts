import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ComputeApp } from '../../../../shared/gpu/parse-compute-apps.js';
import type { ProcessIdentity } from '../../../../shared/proc/read-process-identity.js';
import { attributeGpuMemory } from '../../../../remediator/verify/attribute-gpu-memory.js';
import { judgeRecovery, type GpuEvidence } from '../../../../remediator/verify/judge-recovery.js';

const GIB = 1024 ** 3;
const T = 'a'.repeat(64);
const O = 'b'.repeat(64);

function id(
  pid: number,
  argv: string[],
  containerId: string | null,
  over: Partial<ProcessIdentity> = {},
): ProcessIdentity {
  return {
    pid,
    ppid: 1,
    startTime: pid,
    exe: argv[0]!,
    argv,
    comm: 'x',
    containerId,
    runtime: containerId === null ? null : 'docker',
    onHost: containerId === null,
    nsPids: containerId === null ? [pid] : [pid, 7],
    ...over,
  };
}

test('attributeGpuMemory: only the target containers count; unknown memory is counted apart', () => {
  const apps: ComputeApp[] = [
    { gpuUuid: 'G0', pid: 10, processName: '/usr/bin/ollama', usedMemoryBytes: 3 * GIB },
    { gpuUuid: 'G1', pid: 10, processName: '/usr/bin/ollama', usedMemoryBytes: 1 * GIB },
    { gpuUuid: 'G0', pid: 11, processName: '/usr/bin/ollama', usedMemoryBytes: undefined },
    { gpuUuid: 'G0', pid: 20, processName: '/usr/bin/ollama', usedMemoryBytes: 7 * GIB },
    { gpuUuid: 'G0', pid: 30, processName: '/usr/bin/python3', usedMemoryBytes: 9 * GIB },
    { gpuUuid: 'G0', pid: 40, processName: '/usr/bin/ollama', usedMemoryBytes: 5 * GIB },
  ];
  const runner = ['/usr/bin/ollama', 'runner', '--model', 'm'];
  const ids = new Map<number, ProcessIdentity | null>([
    [10, id(10, runner, T)],
    [11, id(11, runner, T)],
    [20, id(20, runner, O)],
    [30, id(30, ['/usr/bin/python3', 'x.py'], null)],
    [40, null],
  ]);
  const held = attributeGpuMemory(apps, ids, { kind: 'containers', ids: new Set([T]) });
  assert.equal(held.heldBytes, 4 * GIB);
  assert.equal(held.unknownMemory, 1);
  assert.deepEqual(
    held.processes.map((p) => [p.pid, p.gpuUuid]),
    [
      [10, 'G0'],
      [10, 'G1'],
      [11, 'G0'],
    ],
  );

  // a host install: Ollama processes outside containers, never someone else's python, nor an Ollama in LXC
  const hostIds = new Map<number, ProcessIdentity | null>([
    [10, id(10, runner, null)],
    [20, id(20, runner, null, { runtime: 'lxc', onHost: false, nsPids: [20, 5] })],
    [30, ids.get(30)!],
  ]);
  assert.equal(attributeGpuMemory(apps, hostIds, { kind: 'host' }).heldBytes, 4 * GIB);
});

const okProbe = { ok: true, totalMs: 120 };
const ps = { listed: true as const, size: 10 * GIB, sizeVram: 10 * GIB };
const gpu = (heldGiB: number): GpuEvidence => ({
  available: true,
  heldBytes: heldGiB * GIB,
  processes: [{ pid: 10, role: 'ollama_runner', bytes: heldGiB * GIB, gpuUuid: 'G0' }],
  unknownMemory: 0,
});

test('judgeRecovery: healthy only when the probe answers and the VRAM is really held', () => {
  const good = judgeRecovery('m', 0.9, okProbe, ps, gpu(9.5));
  assert.equal(good.healthy, true);
  assert.equal(good.vramSource, 'gpu_processes');

  // /api/ps says 100% GPU but the processes hold nothing: the #12323 lie
  const lie = judgeRecovery('m', 0.9, okProbe, ps, gpu(0.2));
  assert.equal(lie.healthy, false);
  assert.match(lie.detail, /GPU not really used/);

  const cpu = judgeRecovery('m', 0.9, okProbe, { ...ps, sizeVram: 0 }, gpu(9.5));
  assert.equal(cpu.healthy, false);
  assert.match(cpu.detail, /running on the CPU/);

  const hung = judgeRecovery(
    'm',
    0.9,
    { ok: false, error: 'first_token_timeout' },
    { listed: false },
    { available: false, reason: 'n/a' },
  );
  assert.equal(hung.healthy, false);
  assert.match(hung.detail, /first_token_timeout/);

  const unlisted = judgeRecovery('m', 0.9, okProbe, { listed: false }, { available: false, reason: 'n/a' });
  assert.equal(unlisted.healthy, false);
});

test('judgeRecovery: without GPU process data it says that /api/ps alone decided', () => {
  const v = judgeRecovery('m', 0.9, okProbe, ps, { available: false, reason: 'no host PID view' });
  assert.equal(v.healthy, true);
  assert.equal(v.vramSource, 'api_ps');
  assert.match(v.detail, /no GPU process data: no host PID view/);
  const na = judgeRecovery('m', 0.9, okProbe, ps, {
    available: true,
    heldBytes: 0,
    processes: [{ pid: 1, role: 'ollama_runner', bytes: null, gpuUuid: 'G' }],
    unknownMemory: 1,
  });
  assert.equal(na.healthy, true);
  assert.equal(na.vramSource, 'api_ps');
});
