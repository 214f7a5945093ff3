import { test } from 'node:test';
import assert from 'node:assert/strict';
import { queryComputeApps } from '../../../../shared/gpu/query-compute-apps.js';
import { NvidiaSmiError } from '../../../../shared/gpu/run-nvidia-smi.js';
import { fakeRun, fixture } from '../../../helpers/gpu-fixture.js';

const CFG = { nvidia_smi: '/opt/nv/nvidia-smi', timeout_ms: 1234 };
const signal = new AbortController().signal;

test('queryComputeApps asks for gpu_uuid,pid,process_name,used_gpu_memory with nounits and parses the answer', async () => {
  // The runner capture re-ordered to the fields asked for: same cells, same header words.
  const [header, row] = fixture('compute-apps-nounits-runner.csv')
    .trim()
    .split('\n')
    .map((l) => l.split(', '));
  const order = [3, 0, 1, 2];
  const out = `${order.map((i) => header![i]).join(', ')}\n${order.map((i) => row![i]).join(', ')}\n`;
  const { run, calls } = fakeRun(() => ({ stdout: out, stderr: '', exitCode: 0 }));
  const apps = await queryComputeApps(CFG, { signal, run });
  assert.deepEqual(calls, [
    {
      command: CFG.nvidia_smi,
      args: ['--query-compute-apps=gpu_uuid,pid,process_name,used_gpu_memory', '--format=csv,nounits'],
      timeoutMs: CFG.timeout_ms,
    },
  ]);
  assert.deepEqual(apps, [
    { gpuUuid: row![3], pid: Number(row![0]), processName: row![1], usedMemoryBytes: Number(row![2]) * 1048576 },
  ]);
});

test('queryComputeApps: a failing nvidia-smi is an NvidiaSmiError with a bounded reason', async () => {
  const { run } = fakeRun(() => ({ stdout: 'Failed to initialize NVML: Unknown Error\n', stderr: '', exitCode: 255 }));
  await assert.rejects(
    queryComputeApps(CFG, { signal, run }),
    (e: unknown) => e instanceof NvidiaSmiError && e.reason === 'nvml_init_failed',
  );
});
