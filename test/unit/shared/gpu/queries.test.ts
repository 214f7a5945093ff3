import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { queryComputeApps } from '../../../../shared/gpu/query-compute-apps.js';
import { listGpus } from '../../../../shared/gpu/list-gpus.js';
import { createFieldCheck } from '../../../../shared/gpu/create-field-check.js';
import { NvidiaSmiError } from '../../../../shared/gpu/nvidia-smi-error.js';
import type { NvidiaSmiResult, RunNvidiaSmi } from '../../../../shared/gpu/run-nvidia-smi.js';
import { fixture } from './fixture.js';

const CFG = { nvidia_smi: '/opt/nv/nvidia-smi', timeout_ms: 1234 };
const signal = new AbortController().signal;

function fakeRun(answer: (args: readonly string[]) => NvidiaSmiResult) {
  const calls: { command: string; args: readonly string[]; timeoutMs: number }[] = [];
  const run: RunNvidiaSmi = async (command, args, opts) => {
    calls.push({ command, args, timeoutMs: opts.timeoutMs });
    return answer(args);
  };
  return { run, calls };
}

test('queryComputeApps asks for gpu_uuid,pid,process_name,used_gpu_memory with nounits and parses the answer', async () => {
  // The runner capture re-ordered to the fields asked for: same cells, same header words.
  const [header, row] = fixture('compute-apps-nounits-runner.csv').trim().split('\n').map((l) => l.split(', '));
  const order = [3, 0, 1, 2];
  const out = `${order.map((i) => header![i]).join(', ')}\n${order.map((i) => row![i]).join(', ')}\n`;
  const { run, calls } = fakeRun(() => ({ stdout: out, stderr: '', exitCode: 0 }));
  const apps = await queryComputeApps(CFG, { signal, run });
  assert.deepEqual(calls, [{
    command: CFG.nvidia_smi,
    args: ['--query-compute-apps=gpu_uuid,pid,process_name,used_gpu_memory', '--format=csv,nounits'],
    timeoutMs: CFG.timeout_ms,
  }]);
  assert.deepEqual(apps, [{ gpuUuid: row![3], pid: Number(row![0]), processName: row![1], usedMemoryBytes: Number(row![2]) * 1048576 }]);
});

test('queryComputeApps: a failing nvidia-smi is an NvidiaSmiError with a bounded reason', async () => {
  const { run } = fakeRun(() => ({ stdout: 'Failed to initialize NVML: Unknown Error\n', stderr: '', exitCode: 255 }));
  await assert.rejects(queryComputeApps(CFG, { signal, run }), (e: unknown) => e instanceof NvidiaSmiError && e.reason === 'nvml_init_failed');
});

test('listGpus parses -L, keeps a lost GPU as data, and fails only when nothing was listed', async () => {
  const { run, calls } = fakeRun(() => ({ stdout: fixture('list.txt'), stderr: '', exitCode: 0 }));
  const list = await listGpus(CFG, { signal, run });
  assert.deepEqual(calls[0]!.args, ['-L']);
  assert.equal(list.gpus[0]!.uuid, 'GPU-f88d2996-314d-4abe-0c94-acc6aa417694');

  const lost = 'Unable to determine the device handle for GPU 0000:00:06.0: GPU is lost.  Reboot the system to recover this GPU\n';
  const partial = await listGpus(CFG, { signal, run: fakeRun(() => ({ stdout: lost, stderr: '', exitCode: 15 })).run });
  assert.deepEqual(partial.unreachable.map((u) => u.lost), [true]);

  await assert.rejects(
    listGpus(CFG, { signal, run: fakeRun(() => ({ stdout: 'No devices were found\n', stderr: '', exitCode: 6 })).run }),
    (e: unknown) => e instanceof NvidiaSmiError && e.reason === 'no_devices',
  );
});

test('field check: drops what the driver lacks, caches success, retries after failure and after reset', async () => {
  let helpExit = 9;
  const { run, calls } = fakeRun(() =>
    helpExit === 0
      ? { stdout: fixture('help-query-gpu.txt'), stderr: '', exitCode: 0 }
      : { stdout: "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n", stderr: '', exitCode: helpExit },
  );
  const warnings: unknown[] = [];
  const log = pino({ level: 'warn' }, { write: (s: string) => void warnings.push(JSON.parse(s)) });
  const check = createFieldCheck({ command: 'nvidia-smi', wanted: ['uuid', 'no.such.field', 'clocks.sm'], required: ['uuid'], timeoutMs: 1000, run, log });

  await assert.rejects(check.resolve(signal), (e: unknown) => e instanceof NvidiaSmiError && e.reason === 'driver_not_loaded');
  helpExit = 0;
  const first = await check.resolve(signal);
  assert.deepEqual(first.fields, ['uuid', 'clocks.sm']);
  assert.deepEqual(first.dropped, ['no.such.field']);
  assert.equal(warnings.length, 1);
  assert.equal(await check.resolve(signal), first);
  assert.equal(calls.length, 2);
  check.reset();
  await check.resolve(signal);
  assert.equal(calls.length, 3);
  assert.deepEqual(calls.map((c) => c.args), [['--help-query-gpu'], ['--help-query-gpu'], ['--help-query-gpu']]);
});

test('field check: a missing required field is an error, not a silent drop', async () => {
  const { run } = fakeRun(() => ({ stdout: '"index"\nIndex.\n', stderr: '', exitCode: 0 }));
  const check = createFieldCheck({ command: 'nvidia-smi', wanted: ['index', 'uuid'], required: ['uuid'], timeoutMs: 1000, run, log: pino({ level: 'silent' }) });
  await assert.rejects(check.resolve(signal), (e: unknown) => e instanceof NvidiaSmiError && e.reason === 'bad_field');
});
